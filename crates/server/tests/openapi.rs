//! The checked-in OpenAPI document must be what the code generates. To refresh it:
//! `cargo run -p conclave-server -- openapi > api-spec/openapi.json`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn checked_in_openapi_matches_the_code() {
    let generated = conclave_server::http::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../api-spec/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "api-spec/openapi.json is stale: run `cargo run -p conclave-server -- openapi > api-spec/openapi.json`"
    );
}

/// R-OPS-5: every field name in the contract is snake_case.
#[test]
fn contract_fields_are_snake_case() {
    let doc: serde_json::Value = serde_json::from_str(&conclave_server::http::openapi_json()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        if let Some(properties) = schema["properties"].as_object() {
            for field in properties.keys() {
                let snake = field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                assert!(snake, "{name}.{field} is not snake_case");
            }
        }
    }
}

/// The protocol's endpoint table (what the web client and tests call) names exactly the
/// operations the server documents under `/api`, with the same methods and path templates.
#[test]
fn the_endpoint_table_matches_the_api() {
    use conclave_protocol::endpoints::ALL;
    use std::collections::BTreeSet;
    let doc: serde_json::Value = serde_json::from_str(&conclave_server::http::openapi_json()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if path.starts_with("/api/") && item.get(method).is_some() {
                documented.insert((method.to_owned(), path.clone()));
            }
        }
    }
    let table: BTreeSet<(String, String)> =
        ALL.iter().map(|(method, path)| (method.as_str().to_owned(), (*path).to_owned())).collect();
    assert_eq!(table.len(), ALL.len(), "an operation is in the table twice");
    let missing: Vec<_> = documented.difference(&table).collect();
    let unknown: Vec<_> = table.difference(&documented).collect();
    assert!(missing.is_empty() && unknown.is_empty(), "not in the table: {missing:?}; not in the API: {unknown:?}");
}
