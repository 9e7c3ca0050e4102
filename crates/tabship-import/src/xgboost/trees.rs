//! XGBoost's trees (`RegTree`'s JSON form, `src/tree/tree_model.cc`) as tabship trees.
//!
//! XGBoost keeps nodes in arrays whose order may include nodes deleted by the pruner; a tree is
//! rebuilt here by a walk from the root, so that children always follow their parent and only
//! reachable nodes remain. A numeric node goes left when `x < split_condition` (both `f32`), a
//! missing value to `default_left`; a categorical node (`split_type` 1) sends the categories it
//! lists right and every other code left (`common::Decision`), a missing value to
//! `default_left`. A leaf's value is its `split_condition`.

use tabship::artifact::packed::{PackedU8, PackedU32};
use tabship::model::{LEAF, SPLIT_LISTED_RIGHT, SPLIT_NUMERIC, TreeSpec};

use super::json::Field;
use crate::{Error, Result};

/// Most categories tabship's bitsets hold (its `MAX_CATEGORIES` limit): a split listing a larger
/// code is refused.
const MAX_CATEGORY: i64 = 1_000_000;

/// Most bitset words of all categorical nodes of a model together (64 MiB): a node listing one
/// large code takes a few bytes of the file and up to 31,250 words, so the total is bounded
/// rather than left to grow with the number of nodes.
const MAX_TOTAL_CATEGORY_WORDS: usize = 1 << 24;

/// What reading a tree learned besides the tree itself.
#[derive(Debug, Default)]
pub(super) struct TreeFacts {
    /// Bitset words of the categorical nodes read so far.
    pub(super) category_words: usize,
    /// Features that some node splits on by category.
    pub(super) categorical_features: Vec<u32>,
    /// Features that some node splits on by threshold.
    pub(super) numeric_features: Vec<u32>,
}

/// The arrays of one XGBoost tree, checked against its node count.
struct Arrays<'a> {
    n: usize,
    left: (Field<'a>, &'a [serde_json::Value]),
    right: (Field<'a>, &'a [serde_json::Value]),
    feature: (Field<'a>, &'a [serde_json::Value]),
    condition: (Field<'a>, &'a [serde_json::Value]),
    default_left: (Field<'a>, &'a [serde_json::Value]),
    split_type: Option<(Field<'a>, &'a [serde_json::Value])>,
}

/// Converts tree `tree` (a member of `trees`) over `n_features` features.
pub(super) fn convert(
    tree: &Field<'_>,
    n_features: usize,
    facts: &mut TreeFacts,
) -> Result<TreeSpec> {
    let param = tree.get("tree_param")?;
    let leaf_vector = param.get_opt("size_leaf_vector")?;
    if let Some(size) = leaf_vector {
        if size.int()? > 1 {
            return Err(Error::unsupported(
                format!("{} (multi-target trees)", size.path),
                "vector leaves (`multi_strategy=\"multi_output_tree\"`) are not supported",
            ));
        }
    }
    let n_nodes = param.get("num_nodes")?;
    let n = usize::try_from(n_nodes.int()?)
        .ok()
        .filter(|&n| (1..=1 << 26).contains(&n))
        .ok_or_else(|| n_nodes.error("a node count from 1 to 2^26"))?;
    let array = |key: &str| -> Result<(Field<'_>, &[serde_json::Value])> {
        let f = tree.get(key)?;
        let items = f.array_of(n)?;
        Ok((f, items))
    };
    let arrays = Arrays {
        n,
        left: array("left_children")?,
        right: array("right_children")?,
        feature: array("split_indices")?,
        condition: array("split_conditions")?,
        default_left: array("default_left")?,
        split_type: match tree.get_opt("split_type")? {
            Some(f) => {
                let items = f.array_of(n)?;
                Some((f, items))
            }
            None => None,
        },
    };
    let categories = categories_by_node(tree, n)?;
    walk(&arrays, &categories, n_features, facts)
}

/// Each categorical node's listed categories, from XGBoost's `categories_nodes`,
/// `categories_segments`, `categories_sizes` and `categories`.
fn categories_by_node(tree: &Field<'_>, n: usize) -> Result<Vec<Option<Vec<u32>>>> {
    let mut by_node: Vec<Option<Vec<u32>>> = vec![None; n];
    let Some(nodes) = tree.get_opt("categories_nodes")? else {
        return Ok(by_node);
    };
    let node_items = nodes.array()?;
    let segments = tree.get("categories_segments")?;
    let sizes = tree.get("categories_sizes")?;
    let (segment_items, size_items) = (
        segments.array_of(node_items.len())?,
        sizes.array_of(node_items.len())?,
    );
    let all = tree.get("categories")?;
    let all_items = all.array()?;
    for j in 0..node_items.len() {
        let node = nodes.int_at(node_items, j)?;
        let node = usize::try_from(node)
            .ok()
            .filter(|&i| i < n)
            .ok_or_else(|| {
                Error::field(
                    format!("{}[{j}]", nodes.path),
                    format!("a node below {n}"),
                    node.to_string(),
                )
            })?;
        let start = segments.int_at(segment_items, j)?;
        let size = sizes.int_at(size_items, j)?;
        let range = usize::try_from(start)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(s, k)| Some(s..s.checked_add(k)?))
            .filter(|r| r.end <= all_items.len())
            .ok_or_else(|| {
                Error::field(
                    format!("{}[{j}]", segments.path),
                    format!("a segment within the {} categories", all_items.len()),
                    format!("{start}..{start}+{size}"),
                )
            })?;
        let mut listed = Vec::with_capacity(range.len());
        for i in range {
            let c = all.int_at(all_items, i)?;
            if !(0..MAX_CATEGORY).contains(&c) {
                return Err(Error::unsupported(
                    format!("{}[{i}]", all.path),
                    format!(
                        "category code {c} (tabship holds codes 0 to {})",
                        MAX_CATEGORY - 1
                    ),
                ));
            }
            listed.push(c as u32);
        }
        by_node[node] = Some(listed);
    }
    Ok(by_node)
}

/// Rebuilds the tree from its root: nodes in depth-first order, children after their parent.
fn walk(
    a: &Arrays<'_>,
    categories: &[Option<Vec<u32>>],
    n_features: usize,
    facts: &mut TreeFacts,
) -> Result<TreeSpec> {
    let mut t = TreeSpec::default();
    let (mut kinds, mut offsets, mut bits) = (Vec::new(), vec![0u32], Vec::<u32>::new());
    let mut has_categorical = false;
    let mut visited = vec![false; a.n];
    // (XGBoost node, the new index of the parent's slot to fill: (parent, is_left)).
    let mut stack: Vec<(usize, Option<(usize, bool)>)> = vec![(0, None)];
    while let Some((i, slot)) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            return Err(Error::field(
                format!("{}[{i}]", a.left.0.path),
                "a tree (every node reached once)",
                format!("node {i} reached twice"),
            ));
        }
        let me = t.left.0.len();
        if let Some((parent, is_left)) = slot {
            if is_left {
                t.left.0[parent] = me as u32;
            } else {
                t.right.0[parent] = me as u32;
            }
        }
        let left = a.left.0.int_at(a.left.1, i)?;
        // Read only where it means something: a categorical node's condition may be NaN.
        let condition = || a.condition.0.f32_at(a.condition.1, i);
        if left == -1 {
            t.feature.0.push(0);
            t.threshold.0.push(0.0);
            t.left.0.push(LEAF);
            t.right.0.push((t.leaf_values.0.len()) as u32);
            t.leaf_values.0.push(f64::from(condition()?));
            t.missing_left.0.push(0);
            t.strict.0.push(0);
            kinds.push(SPLIT_NUMERIC);
            offsets.push(bits.len() as u32);
            continue;
        }
        let right = a.right.0.int_at(a.right.1, i)?;
        let child = |c: i64, f: &Field<'_>| {
            usize::try_from(c).ok().filter(|&c| c < a.n).ok_or_else(|| {
                Error::field(
                    format!("{}[{i}]", f.path),
                    format!("a node below {}", a.n),
                    c.to_string(),
                )
            })
        };
        let (left, right) = (child(left, &a.left.0)?, child(right, &a.right.0)?);
        let feature = a.feature.0.int_at(a.feature.1, i)?;
        let feature = u32::try_from(feature)
            .ok()
            .filter(|&f| (f as usize) < n_features)
            .ok_or_else(|| {
                Error::field(
                    format!("{}[{i}]", a.feature.0.path),
                    format!("a feature below {n_features}"),
                    feature.to_string(),
                )
            })?;
        let default_left = a.default_left.0.int_at(a.default_left.1, i)? != 0;
        let split_type = match &a.split_type {
            Some((f, items)) => f.int_at(items, i)?,
            None => 0,
        };
        t.feature.0.push(feature);
        t.left.0.push(0);
        t.right.0.push(0);
        t.missing_left.0.push(u8::from(default_left));
        match (split_type, &categories[i]) {
            (0, _) => {
                t.threshold.0.push(f64::from(condition()?));
                t.strict.0.push(1);
                kinds.push(SPLIT_NUMERIC);
                facts.numeric_features.push(feature);
            }
            (1, Some(listed)) => {
                t.threshold.0.push(0.0);
                t.strict.0.push(0);
                kinds.push(SPLIT_LISTED_RIGHT);
                let words = listed
                    .iter()
                    .map(|&c| c as usize / 32 + 1)
                    .max()
                    .unwrap_or(0);
                facts.category_words += words;
                if facts.category_words > MAX_TOTAL_CATEGORY_WORDS {
                    return Err(Error::unsupported(
                        "categorical splits",
                        format!(
                            "their bitsets need more than {MAX_TOTAL_CATEGORY_WORDS} words in all"
                        ),
                    ));
                }
                let start = bits.len();
                bits.resize(start + words, 0);
                for &c in listed {
                    bits[start + c as usize / 32] |= 1 << (c % 32);
                }
                has_categorical = true;
                facts.categorical_features.push(feature);
            }
            (1, None) => {
                return Err(Error::field(
                    format!(
                        "{}[{i}]",
                        a.split_type.as_ref().map_or("split_type", |s| &s.0.path)
                    ),
                    "a categorical node listed in `categories_nodes`",
                    "a node without categories",
                ));
            }
            (other, _) => {
                return Err(Error::unsupported(
                    format!("split_type {other}"),
                    "XGBoost split types are 0 (numerical) and 1 (categorical)",
                ));
            }
        }
        offsets.push(bits.len() as u32);
        // Right pushed first so that the left subtree is laid out first.
        stack.push((right, Some((me, false))));
        stack.push((left, Some((me, true))));
    }
    if has_categorical {
        t.categorical = PackedU8(kinds);
        t.category_offsets = PackedU32(offsets);
        t.category_bits = PackedU32(bits);
    }
    // Defaults are not stored: all-zero rule arrays say nothing the empty array does not.
    if t.missing_left.0.iter().all(|&m| m == 0) {
        t.missing_left = PackedU8::default();
    }
    Ok(t)
}
