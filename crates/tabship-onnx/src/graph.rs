//! A small builder over the protobuf messages: nodes with generated value names, constants as
//! initializers, and the few composite steps every part of the export uses (an ordered sum, a
//! fill of the batch's shape).

use crate::proto::{
    AttributeProto, Dimension, DimensionValue, GraphProto, NodeProto, TensorProto,
    TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto, attribute_type, data_type,
};

/// The domain of ONNX-ML operators (`TreeEnsemble`, `LabelEncoder`).
pub const ML: &str = "ai.onnx.ml";

/// One attribute of a node.
pub enum Attr {
    /// An integer.
    Int(i64),
    /// Integers.
    Ints(Vec<i64>),
    /// Texts.
    Strs(Vec<String>),
    /// A tensor.
    Tensor(TensorProto),
    /// A subgraph (`Scan`'s body).
    Graph(GraphProto),
}

/// A graph being built: nodes in the order added (which is topological, since a node only names
/// values made before it), constants, and a counter for fresh names.
pub struct Builder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    next: usize,
    /// Names a fresh value must not take (the graph inputs: ONNX names every value once).
    reserved: std::collections::HashSet<String>,
}

impl Builder {
    /// A builder whose generated names avoid `reserved`.
    pub fn new(reserved: impl IntoIterator<Item = String>) -> Self {
        Builder {
            nodes: Vec::new(),
            initializers: Vec::new(),
            next: 0,
            reserved: reserved.into_iter().collect(),
        }
    }

    /// A fresh value name with a readable prefix.
    pub fn fresh(&mut self, prefix: &str) -> String {
        loop {
            self.next += 1;
            let name = format!("{prefix}_{}", self.next);
            if !self.reserved.contains(&name) {
                return name;
            }
        }
    }

    /// Adds `op` (in `domain`, `""` for the default one) with one output, returning its name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        self.op_in("", op, inputs, attrs)
    }

    /// [`op`](Self::op) in another domain.
    pub fn op_in(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.op_to(domain, op, inputs, attrs, &out);
        out
    }

    /// Adds `op` writing its one output to the value named `out`.
    pub fn op_to(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
        out: &str,
    ) {
        let name = format!("{out}_node");
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: vec![out.to_owned()],
            name,
            op_type: op.to_owned(),
            attribute: attrs
                .into_iter()
                .map(|(name, a)| attribute(name, a))
                .collect(),
            domain: domain.to_owned(),
        });
    }

    /// Adds `t` as a constant (an initializer) under a fresh name, returned.
    fn constant(&mut self, mut t: TensorProto) -> String {
        let name = self.fresh("const");
        t.name.clone_from(&name);
        self.initializers.push(t);
        name
    }

    /// A `double` constant of shape `dims`.
    pub fn doubles(&mut self, dims: &[i64], values: Vec<f64>) -> String {
        self.constant(tensor_f64(dims, values))
    }

    /// A `float` constant of shape `dims`.
    pub fn floats(&mut self, dims: &[i64], values: Vec<f32>) -> String {
        self.constant(tensor_f32(dims, values))
    }

    /// An `int64` constant of shape `dims`.
    pub fn ints(&mut self, dims: &[i64], values: Vec<i64>) -> String {
        self.constant(tensor_i64(dims, values))
    }

    /// A `string` constant of shape `dims`.
    pub fn strings(&mut self, dims: &[i64], values: Vec<String>) -> String {
        self.constant(TensorProto {
            dims: dims.to_vec(),
            data_type: data_type::STRING,
            string_data: values.into_iter().map(String::into_bytes).collect(),
            ..TensorProto::default()
        })
    }

    /// A tensor of shape `[rows of like, extra...]` filled with `value` (a one-element tensor of
    /// the wanted type), where `like` is any tensor whose first dimension is the batch.
    pub fn fill(&mut self, like: &str, extra: &[i64], value: TensorProto) -> String {
        let rows = self.op(
            "Shape",
            &[like],
            vec![("start", Attr::Int(0)), ("end", Attr::Int(1))],
        );
        let shape = if extra.is_empty() {
            rows
        } else {
            let extra = self.ints(&[extra.len() as i64], extra.to_vec());
            self.op("Concat", &[&rows, &extra], vec![("axis", Attr::Int(0))])
        };
        self.op(
            "ConstantOfShape",
            &[&shape],
            vec![("value", Attr::Tensor(value))],
        )
    }

    /// The sum of `terms` over `axis`, added one slice at a time in index order starting from
    /// `init` (the shape of a slice): a `Scan` whose body is one
    /// `Add`, so the additions happen in exactly tabship's order (a `ReduceSum` may add in any
    /// order). `elem` is the element type.
    pub fn ordered_sum(&mut self, init: &str, terms: &str, axis: i64, elem: i32) -> String {
        // Fresh names: a subgraph must not reuse a name of the graph around it.
        let (state_in, slice, state_out) = (
            self.fresh("sum_in"),
            self.fresh("term"),
            self.fresh("sum_out"),
        );
        let (state_in, slice, state_out) = (state_in.as_str(), slice.as_str(), state_out.as_str());
        let body = GraphProto {
            node: vec![NodeProto {
                input: vec![state_in.to_owned(), slice.to_owned()],
                output: vec![state_out.to_owned()],
                name: format!("{state_out}_node"),
                op_type: "Add".to_owned(),
                ..NodeProto::default()
            }],
            name: "ordered_sum".to_owned(),
            input: vec![
                value_info(state_in, elem, None),
                value_info(slice, elem, None),
            ],
            output: vec![value_info(state_out, elem, None)],
            ..GraphProto::default()
        };
        self.op(
            "Scan",
            &[init, terms],
            vec![
                ("body", Attr::Graph(body)),
                ("num_scan_inputs", Attr::Int(1)),
                ("scan_input_axes", Attr::Ints(vec![axis])),
            ],
        )
    }

    /// The finished graph.
    pub fn finish(
        self,
        name: &str,
        inputs: Vec<ValueInfoProto>,
        outputs: Vec<ValueInfoProto>,
    ) -> GraphProto {
        GraphProto {
            node: self.nodes,
            name: name.to_owned(),
            initializer: self.initializers,
            input: inputs,
            output: outputs,
            ..GraphProto::default()
        }
    }
}

/// A `double` tensor.
pub fn tensor_f64(dims: &[i64], values: Vec<f64>) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::DOUBLE,
        double_data: values,
        ..TensorProto::default()
    }
}

/// A `float` tensor.
pub fn tensor_f32(dims: &[i64], values: Vec<f32>) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: values,
        ..TensorProto::default()
    }
}

/// An `int64` tensor.
pub fn tensor_i64(dims: &[i64], values: Vec<i64>) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::INT64,
        int64_data: values,
        ..TensorProto::default()
    }
}

/// A `uint8` tensor (`TreeEnsemble`'s `nodes_modes`): stored in `int32_data`, as the spec says
/// for every type narrower than 32 bits.
pub fn tensor_u8(values: &[u8]) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: data_type::UINT8,
        int32_data: values.iter().map(|&v| i32::from(v)).collect(),
        ..TensorProto::default()
    }
}

/// A value's declared type: `elem` with `shape` (`None` leaves the shape unknown); a dimension
/// is fixed (`Ok`) or named (`Err`).
pub fn value_info(
    name: &str,
    elem: i32,
    shape: Option<&[std::result::Result<i64, &str>]>,
) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: elem,
                shape: shape.map(|dims| TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(match d {
                                Ok(n) => DimensionValue::DimValue(*n),
                                Err(p) => DimensionValue::DimParam((*p).to_owned()),
                            }),
                        })
                        .collect(),
                }),
            }),
        }),
        doc_string: String::new(),
    }
}

fn attribute(name: &str, a: Attr) -> AttributeProto {
    let mut out = AttributeProto {
        name: name.to_owned(),
        ..AttributeProto::default()
    };
    match a {
        Attr::Int(i) => {
            out.i = i;
            out.r#type = attribute_type::INT;
        }
        Attr::Ints(v) => {
            out.ints = v;
            out.r#type = attribute_type::INTS;
        }
        Attr::Strs(v) => {
            out.strings = v.into_iter().map(String::into_bytes).collect();
            out.r#type = attribute_type::STRINGS;
        }
        Attr::Tensor(t) => {
            out.t = Some(t);
            out.r#type = attribute_type::TENSOR;
        }
        Attr::Graph(g) => {
            out.g = Some(g);
            out.r#type = attribute_type::GRAPH;
        }
    }
    out
}
