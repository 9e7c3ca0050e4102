"""Input data (pandas, pyarrow, numpy, dicts and lists) → one entry per column, in the form
the Rust side reads cheapest (see ``python/src/columns.rs``):

- ``(name, "f64", float64 array)`` for a numeric column with a numeric dtype;
- ``(name, "codes", int64 codes, uniques)`` for a categorical column (negative code = missing);
- ``(name, "utf8", int64 offsets, uint8 data, nulls)`` for an Arrow string column;
- ``(name, "objects", list)`` for anything else, converted value by value.

pandas, pyarrow and polars are optional: they are imported only when the input is one of
theirs. A polars DataFrame (or LazyFrame, collected with only the columns needed) goes through
Arrow, never pandas: ``to_arrow()`` hands over float64 columns without a copy and text as
``large_string`` (one copy, polars' own, out of its string views), and the Arrow path reads
both buffers in place (without pyarrow, column by column through numpy)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import SchemaError

Entry = tuple[Any, ...]
Kinds = Sequence[tuple[str, str]]

_NUMERIC_KINDS = "biuf"  # numpy dtype kinds that are numbers (bool as 0/1)


def _pandas() -> Any:
    return sys.modules.get("pandas")


def _pyarrow() -> Any:
    return sys.modules.get("pyarrow")


def _polars() -> Any:
    return sys.modules.get("polars")


def is_polars(data: Any) -> bool:
    """True for a polars DataFrame or LazyFrame (without importing polars)."""
    pl = _polars()
    return pl is not None and isinstance(data, (pl.DataFrame, pl.LazyFrame))


def from_polars(data: Any, columns: Sequence[str] | None = None) -> Any:
    """A polars DataFrame or LazyFrame as a pyarrow Table (float64 columns without a copy, text
    copied once from polars' string views),
    or, without pyarrow, as a dict of numpy columns (numbers as float64 with NaN for null,
    anything else as objects). A LazyFrame is collected with only ``columns`` (those of them
    it has), so the query computes no more than the pipeline needs."""
    pl = _polars()
    if isinstance(data, pl.LazyFrame):
        if columns is not None:
            present = set(data.collect_schema().names())
            data = data.select([c for c in columns if c in present])
        data = data.collect()
    try:
        import pyarrow  # noqa: F401  (polars' to_arrow needs it)
    except ImportError:
        return {
            s.name: s.cast(pl.Float64).to_numpy()
            if s.dtype.is_numeric()
            else np.asarray(s.to_list(), dtype=object)
            for s in data.get_columns()
        }
    return data.to_arrow()


def _aligned(values: Any, dtype: Any) -> np.ndarray:
    """``values`` as a contiguous, aligned array of ``dtype``, copied only when needed. Aligned
    matters: a frame unpickled from out-of-band buffers (Dask, Ray) can hold float64 columns at
    an odd address, which the Rust side cannot read as ``&[f64]``."""
    return np.require(values, dtype=dtype, requirements=["C", "A"])


def _codes_entry(name: str, codes: Any, uniques: Any) -> Entry:
    codes = _aligned(codes, np.int64)
    if hasattr(uniques, "tolist"):
        uniques = uniques.tolist()
    return (name, "codes", codes, list(uniques))


def _f64_entry(name: str, values: Any) -> Entry:
    return (name, "f64", _aligned(values, np.float64))


def _numpy_column(name: str, kind: str, column: np.ndarray) -> Entry:
    """One column of a 1-D numpy array."""
    dtype = column.dtype
    if kind == "numeric" and dtype.kind in _NUMERIC_KINDS:
        return _f64_entry(name, column)
    if kind == "categorical" and dtype.kind in _NUMERIC_KINDS:
        uniques, codes = np.unique(column, return_inverse=True)
        return _codes_entry(name, codes, uniques)
    if dtype.kind in "OUS":
        return (name, "objects", column.astype(object).tolist())
    raise SchemaError(
        f"column `{name}`: expected {'a number' if kind == 'numeric' else 'a category (text)'}, "
        f"got an array of dtype `{dtype}`",
        column=name,
        expected="a number" if kind == "numeric" else "a category (text)",
        received=f"dtype {dtype}",
    )


def _pandas_column(name: str, kind: str, series: Any) -> Entry:
    pd = _pandas()
    dtype = series.dtype
    is_categorical = isinstance(dtype, pd.CategoricalDtype)
    if kind == "numeric":
        if not is_categorical and getattr(dtype, "kind", "O") in _NUMERIC_KINDS:
            return _f64_entry(name, series.to_numpy(dtype=np.float64, na_value=np.nan))
        if getattr(dtype, "kind", "O") in "mM":
            raise SchemaError(
                f"column `{name}`: expected a number, got a column of dtype `{dtype}`",
                column=name,
                expected="a number",
                received=f"dtype {dtype}",
            )
        return (name, "objects", series.tolist())
    if is_categorical:
        return _codes_entry(name, series.cat.codes.to_numpy(), series.cat.categories)
    if _pyarrow() is not None and getattr(dtype, "storage", None) == "pyarrow":
        # pandas' arrow-backed `str` dtype: hand over the Arrow buffers.
        entry = _utf8_entry(name, _pyarrow().array(series))
        if entry is not None:
            return entry
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return _codes_entry(name, codes, uniques)


def _one_array(column: Any) -> Any:
    """A pyarrow column as one array: its only chunk as it is (``combine_chunks`` copies even
    one chunk), several concatenated."""
    if isinstance(column, _pyarrow().ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def _utf8_entry(name: str, array: Any) -> Entry | None:
    """An Arrow string array as ``(name, "utf8", offsets, data, nulls)``; ``None`` for other
    layouts (string views, dictionaries, ...)."""
    pa = _pyarrow()
    array = _one_array(array)
    if pa.types.is_large_string(array.type):
        offset_type: Any = np.int64
    elif pa.types.is_string(array.type):
        offset_type = np.int32
    else:
        return None
    _, offsets_buffer, data_buffer = array.buffers()
    start, n = array.offset, len(array)
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[start : start + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    nulls = None
    if array.null_count:
        nulls = array.is_null().to_numpy(zero_copy_only=False).view(np.uint8)
    return (name, "utf8", _aligned(offsets, np.int64), data, nulls)


def _arrow_column(name: str, kind: str, column: Any) -> Entry:
    pa = _pyarrow()
    import pyarrow.compute as pc

    array = _one_array(column)
    t = array.type
    if kind == "numeric":
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
            return _f64_entry(name, values)
        return (name, "objects", array.to_pylist())
    if not pa.types.is_dictionary(t):
        entry = _utf8_entry(name, array)
        if entry is not None:
            return entry
        array = pc.dictionary_encode(array)
    # Indices may be unsigned (polars writes uint32): widen before -1 marks the nulls.
    codes = pc.fill_null(pc.cast(array.indices, pa.int64()), -1).to_numpy(zero_copy_only=False)
    return _codes_entry(name, codes, array.dictionary.to_pylist())


def _object_column(name: str, kind: str, values: list[Any]) -> Entry:
    return (name, "objects", values)


def to_columns(data: Any, kinds: Kinds) -> list[Entry]:
    """Entries for the columns named in ``kinds`` (name, "numeric"|"categorical") that ``data``
    has; absent columns are left out (the core reports them by name)."""
    if is_polars(data):
        data = from_polars(data, [n for n, _ in kinds])
    pd = _pandas()
    pa = _pyarrow()
    if pd is not None and isinstance(data, pd.DataFrame):
        present = set(data.columns)
        return [_pandas_column(n, k, data[n]) for n, k in kinds if n in present]
    if pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        present = set(data.column_names)
        return [_arrow_column(n, k, data.column(n)) for n, k in kinds if n in present]
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise SchemaError(
                f"expected a 2-D array with one column per schema column "
                f"({len(kinds)}: {', '.join(n for n, _ in kinds)}), got {data.ndim} dimensions"
            )
        schema_kinds = [(n, k) for n, k in kinds]
        if data.shape[1] != len(schema_kinds):
            raise SchemaError(
                f"expected a 2-D array with {len(schema_kinds)} columns in schema order "
                f"({', '.join(n for n, _ in schema_kinds)}), got {data.shape[1]} columns"
            )
        return [_numpy_column(n, k, data[:, j]) for j, (n, k) in enumerate(schema_kinds)]
    if isinstance(data, Mapping):
        # A dict of columns.
        if pd is not None:
            return to_columns(pd.DataFrame(dict(data)), kinds)
        out = []
        for n, k in kinds:
            if n in data:
                column = data[n]
                if isinstance(column, np.ndarray):
                    out.append(_numpy_column(n, k, column))
                else:
                    out.append(_object_column(n, k, list(column)))
        return out
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        if len(data) and _is_row(data[0]):
            return _rows_columns(data, kinds)
        # A list of records.
        out = []
        for n, k in kinds:
            values = []
            for i, record in enumerate(data):
                if not isinstance(record, Mapping):
                    raise SchemaError(
                        f"row {i + 1}: expected a record (a dict of column to value), "
                        f"got {type(record).__name__}"
                        + (
                            " (rows as lists are read only when the first row is a list too)"
                            if _is_row(record)
                            else ""
                        ),
                        row=i + 1,
                    )
                try:
                    values.append(record[n])
                except KeyError:
                    raise SchemaError(
                        f"row {i + 1}: missing column `{n}`: the pipeline needs it as "
                        f"{'a number' if k == 'numeric' else 'a category (text)'}",
                        column=n,
                        expected="a number" if k == "numeric" else "a category (text)",
                        row=i + 1,
                    ) from None
            out.append(_object_column(n, k, values))
        return out
    raise TypeError(
        "expected a record (dict), a list of records, a list of rows (lists in schema order), "
        "a pandas DataFrame, a dict of columns, a pyarrow Table, a polars DataFrame or "
        f"LazyFrame or a 2-D numpy array, got {type(data).__name__}"
    )


def _is_row(value: Any) -> bool:
    """A row given as a list, tuple or 1-D array of values in schema order."""
    if isinstance(value, np.ndarray):
        return value.ndim == 1
    return isinstance(value, (list, tuple))


def _rows_columns(rows: Sequence[Any], kinds: Kinds) -> list[Entry]:
    """Columns of a list of rows, each a list of values in schema order."""
    width = len(kinds)
    for i, row in enumerate(rows):
        if not _is_row(row):
            raise SchemaError(
                f"row {i + 1}: expected a list of {width} values in schema order, "
                f"got {type(row).__name__} (the first row is a list, so every row must be)",
                row=i + 1,
            )
        if len(row) != width:
            names = ", ".join(n for n, _ in kinds)
            raise SchemaError(
                f"row {i + 1}: expected {width} values in schema order ({names}), "
                f"got {len(row)}",
                row=i + 1,
                expected=f"{width} values",
                received=f"{len(row)} values",
            )
    return [
        _object_column(n, k, [row[j] for row in rows]) for j, (n, k) in enumerate(kinds)
    ]


def n_rows(data: Any) -> int | None:
    """The number of rows of tabular input, when it can be told without conversion."""
    pd = _pandas()
    pa = _pyarrow()
    if pd is not None and isinstance(data, pd.DataFrame):
        return len(data)
    if pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        return int(data.num_rows)
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return int(data.shape[0])
    pl = _polars()
    if pl is not None and isinstance(data, pl.DataFrame):
        return int(data.height)
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return len(data)
    return None


def training_kinds(
    data: Any, categorical: Sequence[str], numeric: Sequence[str]
) -> list[tuple[str, str]]:
    """Every column of training data with its kind: the overrides first, then the dtype
    (numbers → numeric; text, bool, category → categorical)."""
    pd = _pandas()
    pa = _pyarrow()
    if pd is not None and isinstance(data, pd.DataFrame):
        names = [str(c) for c in data.columns]

        def by_dtype(name: str) -> str:
            dtype = data[name].dtype
            if isinstance(dtype, pd.CategoricalDtype):
                return "categorical"
            return "numeric" if getattr(dtype, "kind", "O") in "iuf" else "categorical"
    elif pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        names = list(data.column_names)

        def by_dtype(name: str) -> str:
            t = data.schema.field(name).type
            numeric_type = pa.types.is_integer(t) or pa.types.is_floating(t)
            return "numeric" if numeric_type else "categorical"
    else:
        raise TypeError(
            "training data must be a pandas DataFrame, a dict of columns, a pyarrow Table, a "
            f"polars DataFrame or LazyFrame or a CSV path, got {type(data).__name__}"
        )
    from ._errors import OptionError

    for option, listed in (("categorical", categorical), ("numeric", numeric)):
        for name in listed:
            if name not in names:
                raise OptionError(
                    f"invalid option `{option}`: no column `{name}` in the data "
                    f"(columns: {', '.join(names)})"
                )
    both = [c for c in categorical if c in numeric]
    if both:
        raise OptionError(
            f"invalid option `categorical`: column `{both[0]}` is also listed as numeric"
        )
    kinds = []
    for name in names:
        if name in categorical:
            kinds.append((name, "categorical"))
        elif name in numeric:
            kinds.append((name, "numeric"))
        else:
            kinds.append((name, by_dtype(name)))
    return kinds


def training_frame(data: Any) -> Any:
    """Training data as something ``to_columns`` reads (a dict of columns → DataFrame, polars
    → a pyarrow Table, or a DataFrame without pyarrow)."""
    if is_polars(data):
        data = from_polars(data)
    if isinstance(data, Mapping):
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional
            raise TypeError(
                "training from a dict of columns (or from polars without pyarrow) needs pandas"
            ) from None
        return pd.DataFrame(dict(data))
    return data


def _column_names(data: Any) -> list[str] | None:
    """The column names of tabular input when every one is a string (as scikit-learn reads
    feature names); ``None`` for arrays and for frames with other column labels."""
    pd = _pandas()
    pa = _pyarrow()
    pl = _polars()
    if pd is not None and isinstance(data, pd.DataFrame):
        names = list(data.columns)
    elif pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        names = list(data.column_names)
    elif pl is not None and isinstance(data, pl.DataFrame):
        names = list(data.columns)
    elif pl is not None and isinstance(data, pl.LazyFrame):
        names = list(data.collect_schema().names())
    elif isinstance(data, Mapping):
        names = list(data.keys())
    else:
        return None
    return names if all(isinstance(n, str) for n in names) else None


def positional_names(n: int) -> list[str]:
    """The names of unnamed feature columns: ``x0``, ``x1``, ... (as scikit-learn's
    ``get_feature_names_out``)."""
    return [f"x{j}" for j in range(n)]


def as_2d_array(data: Any) -> np.ndarray:
    """Unnamed tabular input (a 2-D array, a list of rows) as a 2-D numpy array. Rows that mix
    text and numbers become an object array (numpy would turn the numbers into text)."""
    array = np.asarray(data)
    if array.dtype.kind in "US" and not isinstance(data, np.ndarray):
        array = np.asarray(data, dtype=object)
    if array.ndim != 2:
        raise SchemaError(
            f"expected 2-D input (rows × columns), got {array.ndim} dimension"
            f"{'' if array.ndim == 1 else 's'}"
            + (
                ". Reshape your data with x.reshape(-1, 1) if it has a single feature or "
                "x.reshape(1, -1) if it is a single row"
                if array.ndim == 1
                else ""
            ),
            expected="2 dimensions",
            received=f"{array.ndim} dimensions",
        )
    return array


def _array_column_kind(column: np.ndarray) -> str:
    """Numbers (and bools) are numeric; an object column is numeric when every present value
    is a number, categorical otherwise."""
    if column.dtype.kind in _NUMERIC_KINDS:
        return "numeric"
    if column.dtype.kind == "O":
        for value in column:
            if value is None or isinstance(value, (int, float, np.integer, np.floating)):
                continue
            return "categorical"
        return "numeric"
    return "categorical"


def named_frame(data: Any) -> tuple[Any, list[str], bool]:
    """Features for training: ``(frame, names, named)``, where ``frame`` is something
    ``training_kinds``/``to_columns`` read (a pandas DataFrame, a pyarrow Table, or a dict of
    1-D numpy arrays for unnamed input) with string column names. Unnamed input (an array, a
    list of rows, a DataFrame whose column labels are not all strings) gets ``x0``, ``x1``,
    ...; ``named`` says whether the names came from the data."""
    if is_polars(data):
        data = from_polars(data)
    names = _column_names(data)
    if names is not None:
        return training_frame(data), names, True
    pd = _pandas()
    if pd is not None and isinstance(data, pd.DataFrame):
        names = positional_names(data.shape[1])
        return data.set_axis(names, axis=1), names, False
    array = as_2d_array(data)
    names = positional_names(array.shape[1])
    return {n: array[:, j] for j, n in enumerate(names)}, names, False


def feature_columns(
    frame: Any, categorical: Sequence[str], numeric: Sequence[str]
) -> tuple[list[Entry], list[tuple[str, str]]]:
    """Entries and kinds of every column of a ``named_frame``."""
    if isinstance(frame, dict):
        names = list(frame)
        from ._errors import OptionError

        for option, listed in (("categorical", categorical), ("numeric", numeric)):
            for name in listed:
                if name not in frame:
                    raise OptionError(
                        f"invalid option `{option}`: no column `{name}` in the data "
                        f"(columns: {', '.join(names)})"
                    )
        kinds = [
            (
                n,
                "categorical"
                if n in categorical
                else "numeric"
                if n in numeric
                else _array_column_kind(frame[n]),
            )
            for n in names
        ]
        return [_numpy_column(n, k, frame[n]) for n, k in kinds], kinds
    kinds = training_kinds(frame, categorical, numeric)
    return to_columns(frame, kinds), kinds


def target_values(y: Any) -> tuple[np.ndarray, str | None, bool]:
    """A target as ``(1-D array, its name or None, was_column_vector)``: a pandas or polars
    Series, a pyarrow array, a numpy array, a list. A column vector (n × 1) is flattened."""
    name = getattr(y, "name", None)
    pa = _pyarrow()
    if pa is not None and isinstance(y, (pa.Array, pa.ChunkedArray)):
        values = np.asarray(y.to_numpy(zero_copy_only=False))
    elif hasattr(y, "to_numpy"):
        values = np.asarray(y.to_numpy())
    else:
        values = np.asarray(y)
        if values.dtype.kind in "US" and not isinstance(y, np.ndarray):
            values = np.asarray(y, dtype=object)
    column_vector = values.ndim == 2 and values.shape[1] == 1
    if column_vector:
        values = values.ravel()
    if values.ndim != 1:
        raise SchemaError(
            f"expected the target as one value per row (a 1-D array), got shape {values.shape}",
            expected="1 dimension",
            received=f"shape {values.shape}",
        )
    return values, name if isinstance(name, str) and name else None, column_vector


def target_entry(name: str, values: np.ndarray) -> tuple[Entry, str]:
    """The target's entry and kind: numbers as numeric, anything else as categorical (``None``
    and NaN are missing: training drops those rows)."""
    if values.dtype.kind in "iuf":
        return _f64_entry(name, values), "numeric"
    codes = np.empty(len(values), dtype=np.int64)
    uniques: dict[Any, int] = {}
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and v != v):
            codes[i] = -1
        else:
            codes[i] = uniques.setdefault(v if isinstance(v, str) else str(v), len(uniques))
    return (name, "codes", codes, list(uniques)), "categorical"
