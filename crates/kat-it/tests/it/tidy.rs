//! Architecture rules, checked against `cargo metadata`.

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};
use std::collections::{BTreeSet, HashMap, HashSet};

fn metadata() -> Metadata {
    MetadataCommand::new().exec().expect("cargo metadata")
}

/// Every package reachable from `root` through normal (non-dev, non-build) dependencies.
fn normal_closure(meta: &Metadata, root: &PackageId) -> BTreeSet<String> {
    let resolve = meta.resolve.as_ref().expect("resolve graph");
    let nodes: HashMap<&PackageId, _> = resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let names: HashMap<&PackageId, &str> = meta.packages.iter().map(|p| (&p.id, p.name.as_str())).collect();
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    let mut out = BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        out.insert(names[id].to_string());
        for dep in &nodes[id].deps {
            if dep.dep_kinds.iter().any(|k| k.kind == DependencyKind::Normal) {
                stack.push(&dep.pkg);
            }
        }
    }
    out
}

#[test]
fn the_core_stays_pure() {
    let meta = metadata();
    let core = meta.workspace_packages().into_iter().find(|p| p.name.as_str() == "kat-core").expect("kat-core");
    let tree = normal_closure(&meta, &core.id);
    assert!(tree.len() > 1, "the closure was computed: {tree:?}");
    for forbidden in ["tokio", "sqlx", "sqlx-core", "axum", "reqwest", "hyper", "tower", "askama"] {
        assert!(!tree.contains(forbidden), "kat-core depends on {forbidden}: {tree:?}");
    }
}

#[test]
fn only_the_store_adapters_use_sqlx() {
    let meta = metadata();
    let mut users: BTreeSet<String> = BTreeSet::new();
    for p in meta.workspace_packages() {
        for d in &p.dependencies {
            if !d.name.starts_with("sqlx") {
                continue;
            }
            let test_crate = matches!(p.name.as_str(), "kat-it" | "kat-e2e");
            if test_crate && d.kind == DependencyKind::Development {
                continue;
            }
            users.insert(p.name.to_string());
        }
    }
    let expected: BTreeSet<String> = ["kat-store-postgres", "kat-store-sqlite"].map(String::from).into();
    assert_eq!(users, expected);
    // And the HTTP layer reaches the database only through the port.
    let web = meta.workspace_packages().into_iter().find(|p| p.name.as_str() == "kat-web").expect("kat-web");
    let tree = normal_closure(&meta, &web.id);
    assert!(!tree.contains("sqlx"), "kat-web pulls in sqlx: {tree:?}");
}

#[test]
fn the_use_cases_know_no_http() {
    let meta = metadata();
    let app = meta.workspace_packages().into_iter().find(|p| p.name.as_str() == "kat-app").expect("kat-app");
    let tree = normal_closure(&meta, &app.id);
    assert!(tree.contains("kat-core") && tree.contains("kat-store"), "the closure was computed: {tree:?}");
    for forbidden in [
        "axum",
        "axum-core",
        "tower",
        "tower-http",
        "hyper",
        "askama",
        "askama_web",
        "utoipa",
        "utoipa-axum",
        "kat-web",
    ] {
        assert!(!tree.contains(forbidden), "kat-app depends on {forbidden}: {tree:?}");
    }
}
