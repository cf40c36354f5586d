//! `d`: the selected object as readable, indented text (YAML-like, from its serde form), fields
//! in the order the model declares them (serde_json's `preserve_order`): name and status first.

use serde::Serialize;
use serde_json::Value;

use crate::screen::panes::{self, Items};
use crate::state::{Popup, State};

pub fn open(state: &mut State) -> Option<Popup> {
    let view = state.focused();
    let i = view.selected_item()?;
    let (title, value) = match panes::items(&view.pane, &state.fleet) {
        Items::Clusters(v) => (format!("cluster {}", v[i].name), to_value(&v[i])),
        Items::Services(v) => (format!("service {}", v[i].name), to_value(&v[i])),
        Items::Tasks(v, ..) => (format!("task {}", v[i].id()), to_value(&v[i])),
        Items::Containers(v) => (format!("container {}", v[i].name), to_value(&v[i])),
        Items::Instances(v) => (
            format!("instance {}", v[i].ec2_instance_id),
            to_value(&v[i]),
        ),
    };
    let mut lines = Vec::new();
    write_value(&value, 0, &mut lines);
    Some(Popup::Describe {
        title,
        lines,
        scroll: 0,
    })
}

fn to_value<T: Serialize>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

/// Renders JSON as indented `key: value` lines; lists as `- ` items.
fn write_value(value: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = "  ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push(format!("{pad}{k}:"));
                        write_value(v, indent + 1, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push(format!("{pad}{k}:"));
                        write_value(v, indent + 1, out);
                    }
                    _ => out.push(format!("{pad}{k}: {}", scalar(v))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let mut inner = Vec::new();
                write_value(item, indent + 1, &mut inner);
                match inner.first_mut() {
                    Some(first) if matches!(item, Value::Object(_) | Value::Array(_)) => {
                        // `- ` takes the place of the first line's indentation.
                        let trimmed = first.trim_start().to_string();
                        *first = format!("{pad}- {trimmed}");
                        out.extend(inner);
                    }
                    _ => out.push(format!("{pad}- {}", scalar(item))),
                }
            }
        }
        other => out.push(format!("{pad}{}", scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "~".into(),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_and_lists_read_like_yaml() {
        let v = json!({"name": "cart", "tags": [], "deployments": [{"id": "d1", "running": 2}], "ids": ["a"]});
        let mut out = Vec::new();
        write_value(&v, 0, &mut out);
        assert_eq!(
            out,
            vec![
                "name: cart",
                "tags: []",
                "deployments:",
                "  - id: d1",
                "    running: 2",
                "ids:",
                "  - a",
            ]
        );
    }
}
