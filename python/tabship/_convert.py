"""Input data (pandas, pyarrow, numpy, dicts and lists) → one entry per column, in the form
the Rust side reads cheapest (see ``python/src/columns.rs``):

- ``(name, "f64", float64 array)`` for a numeric column with a numeric dtype;
- ``(name, "codes", int64 codes, uniques)`` for a categorical column (negative code = missing);
- ``(name, "utf8", int64 offsets, uint8 data, nulls)`` for an Arrow string column;
- ``(name, "objects", list)`` for anything else, converted value by value.

pandas and pyarrow are optional: they are imported only when the input is one of theirs.
"""

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


def _codes_entry(name: str, codes: Any, uniques: Any) -> Entry:
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    if hasattr(uniques, "tolist"):
        uniques = uniques.tolist()
    return (name, "codes", codes, list(uniques))


def _f64_entry(name: str, values: Any) -> Entry:
    return (name, "f64", np.ascontiguousarray(values, dtype=np.float64))


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


def _utf8_entry(name: str, array: Any) -> Entry | None:
    """An Arrow string array as ``(name, "utf8", offsets, data, nulls)``; ``None`` for other
    layouts (string views, dictionaries, ...)."""
    pa = _pyarrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
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
    return (name, "utf8", np.ascontiguousarray(offsets, dtype=np.int64), data, nulls)


def _arrow_column(name: str, kind: str, column: Any) -> Entry:
    pa = _pyarrow()
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
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
    codes = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
    return _codes_entry(name, codes, array.dictionary.to_pylist())


def _object_column(name: str, kind: str, values: list[Any]) -> Entry:
    return (name, "objects", values)


def to_columns(data: Any, kinds: Kinds) -> list[Entry]:
    """Entries for the columns named in ``kinds`` (name, "numeric"|"categorical") that ``data``
    has; absent columns are left out (the core reports them by name)."""
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
        # A list of records.
        out = []
        for n, k in kinds:
            values = []
            for i, record in enumerate(data):
                if not isinstance(record, Mapping):
                    raise SchemaError(
                        f"row {i + 1}: expected a record (a dict of column to value), "
                        f"got {type(record).__name__}",
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
        "expected a record (dict), a list of records, a pandas DataFrame, a dict of columns, "
        f"a pyarrow Table or a 2-D numpy array, got {type(data).__name__}"
    )


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
            "training data must be a pandas DataFrame, a dict of columns, a pyarrow Table or a "
            f"CSV path, got {type(data).__name__}"
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
    """Training data as something ``to_columns`` reads (a dict of columns → DataFrame)."""
    if isinstance(data, Mapping):
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional
            raise TypeError("training from a dict of columns needs pandas") from None
        return pd.DataFrame(dict(data))
    return data
