//! What changed between two revisions of a task definition, and a revision as readable text.
//!
//! Pure functions over the model. Both share one rule: a secret's value is never shown. Secrets
//! (`secrets`, a log driver's `secretOptions`) are references to Secrets Manager or Parameter
//! Store and are only said to be added, removed or pointed elsewhere; a plain environment
//! variable whose name looks like a secret (`DB_PASSWORD`, `API_TOKEN`…) has its value hidden
//! the same way, since people do put secrets there.

use std::collections::BTreeMap;

use super::{ContainerDefinition, TaskDefRef, TaskDefinition};

/// How a line of the diff changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Mark {
    Added,
    Removed,
    Changed,
}

impl Mark {
    pub fn sign(self) -> char {
        match self {
            Mark::Added => '+',
            Mark::Removed => '-',
            Mark::Changed => '~',
        }
    }
}

/// One change: `~ image tag  1.4.2 → 1.4.3 (…/cart)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    pub mark: Mark,
    /// `image tag`, `env`, `memory (hard)`…
    pub field: String,
    /// What changed, worded and already masked.
    pub detail: String,
}

/// The changes of the task itself, then of each container (by name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskDefDiff {
    pub from: TaskDefRef,
    pub to: TaskDefRef,
    pub task: Vec<DiffLine>,
    /// (container name, its changes), in the order of `to`'s containers, then removed ones.
    pub containers: Vec<(String, Vec<DiffLine>)>,
}

impl TaskDefDiff {
    pub fn is_empty(&self) -> bool {
        self.task.is_empty() && self.containers.iter().all(|(_, l)| l.is_empty())
    }

    /// Every line, container lines prefixed by their container, for searching in tests.
    pub fn all_lines(&self) -> Vec<String> {
        let task = self
            .task
            .iter()
            .map(|l| format!("{} {} {}", l.mark.sign(), l.field, l.detail));
        let containers = self.containers.iter().flat_map(|(name, lines)| {
            lines
                .iter()
                .map(move |l| format!("{name}: {} {} {}", l.mark.sign(), l.field, l.detail))
        });
        task.chain(containers).collect()
    }
}

/// Words in a variable name that say its value is a secret.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

/// Whether a plain variable's value should be hidden because its name says it is a secret.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

const HIDDEN: &str = "(hidden)";

/// A variable as shown: `NAME=value`, or `NAME=(hidden)` when the name looks secret.
fn env_text(name: &str, value: &str) -> String {
    if looks_secret(name) {
        format!("{name}={HIDDEN}")
    } else {
        format!("{name}={value}")
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v}{unit}"),
        None => "not set".into(),
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "not set".into()
    } else {
        serde_json::to_string(v).unwrap_or_default()
    }
}

/// `registry/app:1.4.2` → (`registry/app`, `1.4.2`); digests keep their `@`.
fn split_image(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, &image[repo.len()..][..digest.len() + 1]);
    }
    // A `:` after the last `/` is the tag (one before it is a registry port).
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], &image[slash + i + 1..]),
        None => (image, "latest"),
    }
}

fn changed(field: &str, from: String, to: String) -> Option<DiffLine> {
    (from != to).then(|| DiffLine {
        mark: Mark::Changed,
        field: field.into(),
        detail: format!("{from} → {to}"),
    })
}

fn line(mark: Mark, field: &str, detail: String) -> DiffLine {
    DiffLine {
        mark,
        field: field.into(),
        detail,
    }
}

/// Name→value pairs compared key by key; `show` words one side (masking as needed), `change`
/// words a changed value.
fn keyed(
    out: &mut Vec<DiffLine>,
    field: &str,
    from: &[(String, String)],
    to: &[(String, String)],
    show: impl Fn(&str, &str) -> String,
    change: impl Fn(&str, &str, &str) -> String,
) {
    let old: BTreeMap<&str, &str> = from.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let new: BTreeMap<&str, &str> = to.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in &new {
        match old.get(k) {
            None => out.push(line(Mark::Added, field, show(k, v))),
            Some(was) if was != v => out.push(line(Mark::Changed, field, change(k, was, v))),
            Some(_) => {}
        }
    }
    for (k, v) in &old {
        if !new.contains_key(k) {
            out.push(line(Mark::Removed, field, show(k, v)));
        }
    }
}

fn env_change(name: &str, from: &str, to: &str) -> String {
    if looks_secret(name) {
        format!("{name}: value changed {HIDDEN}")
    } else {
        format!("{name}: {from} → {to}")
    }
}

/// Differences between two revisions, `from` the older (or running) one.
pub fn diff(from: &TaskDefinition, to: &TaskDefinition) -> TaskDefDiff {
    let mut task = Vec::new();
    task.extend(changed(
        "cpu",
        opt(from.cpu, " units"),
        opt(to.cpu, " units"),
    ));
    task.extend(changed(
        "memory",
        opt(from.memory, " MiB"),
        opt(to.memory, " MiB"),
    ));
    task.extend(changed(
        "network mode",
        from.network_mode.clone(),
        to.network_mode.clone(),
    ));
    task.extend(changed(
        "compatibilities",
        from.requires_compatibilities.join(", "),
        to.requires_compatibilities.join(", "),
    ));
    task.extend(changed(
        "task role",
        from.task_role_arn.clone(),
        to.task_role_arn.clone(),
    ));
    task.extend(changed(
        "execution role",
        from.execution_role_arn.clone(),
        to.execution_role_arn.clone(),
    ));
    let mut containers = Vec::new();
    for c in &to.containers {
        match from.container(&c.name) {
            Some(old) => containers.push((c.name.clone(), container_diff(old, c))),
            None => task.push(line(
                Mark::Added,
                "container",
                format!("{} ({})", c.name, c.image),
            )),
        }
    }
    for c in &from.containers {
        if to.container(&c.name).is_none() {
            task.push(line(
                Mark::Removed,
                "container",
                format!("{} ({})", c.name, c.image),
            ));
        }
    }
    TaskDefDiff {
        from: from.reference.clone(),
        to: to.reference.clone(),
        task,
        containers,
    }
}

fn container_diff(a: &ContainerDefinition, b: &ContainerDefinition) -> Vec<DiffLine> {
    let mut out = Vec::new();
    if a.image != b.image {
        let ((repo_a, tag_a), (repo_b, tag_b)) = (split_image(&a.image), split_image(&b.image));
        out.push(if repo_a == repo_b {
            line(
                Mark::Changed,
                "image tag",
                format!("{tag_a} → {tag_b}  ({repo_a})"),
            )
        } else {
            line(Mark::Changed, "image", format!("{} → {}", a.image, b.image))
        });
    }
    out.extend(changed("cpu", opt(a.cpu, " units"), opt(b.cpu, " units")));
    out.extend(changed(
        "memory (hard)",
        opt(a.memory, " MiB"),
        opt(b.memory, " MiB"),
    ));
    out.extend(changed(
        "memory (soft)",
        opt(a.memory_reservation, " MiB"),
        opt(b.memory_reservation, " MiB"),
    ));
    out.extend(changed(
        "essential",
        a.essential.to_string(),
        b.essential.to_string(),
    ));
    out.extend(changed(
        "entryPoint",
        list(&a.entry_point),
        list(&b.entry_point),
    ));
    out.extend(changed("command", list(&a.command), list(&b.command)));
    keyed(
        &mut out,
        "env",
        &a.environment,
        &b.environment,
        env_text,
        env_change,
    );
    keyed(
        &mut out,
        "secret",
        &a.secrets,
        &b.secrets,
        |name, _| name.to_string(),
        |name, _, _| format!("{name}: reference changed"),
    );
    ports(&mut out, a, b);
    let health = |c: &ContainerDefinition| c.health_check.as_ref().map(|h| h.to_string());
    match (health(a), health(b)) {
        (None, Some(h)) => out.push(line(Mark::Added, "health check", h)),
        (Some(h), None) => out.push(line(Mark::Removed, "health check", h)),
        (Some(x), Some(y)) => out.extend(changed("health check", x, y)),
        (None, None) => {}
    }
    out.extend(changed(
        "log driver",
        or_none(&a.log_driver),
        or_none(&b.log_driver),
    ));
    keyed(
        &mut out,
        "log option",
        &a.log_options,
        &b.log_options,
        |k, v| format!("{k}={v}"),
        |k, x, y| format!("{k}: {x} → {y}"),
    );
    keyed(
        &mut out,
        "log secret",
        &a.log_secret_options,
        &b.log_secret_options,
        |name, _| name.to_string(),
        |name, _, _| format!("{name}: reference changed"),
    );
    let ulimits = |c: &ContainerDefinition| -> Vec<(String, String)> {
        c.ulimits
            .iter()
            .map(|u| (u.name.clone(), format!("soft {} hard {}", u.soft, u.hard)))
            .collect()
    };
    keyed(
        &mut out,
        "ulimit",
        &ulimits(a),
        &ulimits(b),
        |k, v| format!("{k} {v}"),
        |k, x, y| format!("{k}: {x} → {y}"),
    );
    out.extend(changed(
        "readonlyRootFilesystem",
        a.readonly_root_filesystem.to_string(),
        b.readonly_root_filesystem.to_string(),
    ));
    out.extend(changed(
        "initProcessEnabled",
        opt(a.init_process_enabled, ""),
        opt(b.init_process_enabled, ""),
    ));
    let stop = |c: &ContainerDefinition| match c.stop_timeout {
        Some(s) => format!("{s}s"),
        None => "30s (default)".into(),
    };
    out.extend(changed("stopTimeout", stop(a), stop(b)));
    out
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s.into()
    }
}

/// Port mappings keyed by container port and protocol.
fn ports(out: &mut Vec<DiffLine>, a: &ContainerDefinition, b: &ContainerDefinition) {
    let key = |p: &super::PortMapping| (p.container_port, p.protocol.clone());
    for p in &b.port_mappings {
        match a.port_mappings.iter().find(|q| key(q) == key(p)) {
            None => out.push(line(Mark::Added, "port", p.to_string())),
            Some(q) if q != p => out.push(line(Mark::Changed, "port", format!("{q} → {p}"))),
            Some(_) => {}
        }
    }
    for q in &a.port_mappings {
        if !b.port_mappings.iter().any(|p| key(p) == key(q)) {
            out.push(line(Mark::Removed, "port", q.to_string()));
        }
    }
}

/// A revision in full, as readable lines (the `d` view of a revision). Secret references are
/// shown as where the value comes from, never a value.
pub fn describe(def: &TaskDefinition) -> Vec<String> {
    let mut out = vec![
        format!("{}", def.reference),
        format!("arn                  {}", def.reference.arn),
        format!("status               {}", or_none(&def.status)),
        format!(
            "registered           {}",
            def.registered_at.map_or("-".into(), |t| t
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string())
        ),
        format!("cpu                  {}", opt(def.cpu, " units")),
        format!("memory               {}", opt(def.memory, " MiB")),
        format!("network mode         {}", or_none(&def.network_mode)),
        format!(
            "compatibilities      {}",
            or_none(&def.requires_compatibilities.join(", "))
        ),
        format!("task role            {}", or_none(&def.task_role_arn)),
        format!("execution role       {}", or_none(&def.execution_role_arn)),
    ];
    for c in &def.containers {
        out.push(String::new());
        out.push(format!("container {}", c.name));
        let field = |out: &mut Vec<String>, name: &str, value: String| {
            out.push(format!("  {name:<22} {value}"));
        };
        field(&mut out, "image", c.image.clone());
        field(&mut out, "essential", c.essential.to_string());
        field(&mut out, "cpu", opt(c.cpu, " units"));
        field(&mut out, "memory (hard)", opt(c.memory, " MiB"));
        field(&mut out, "memory (soft)", opt(c.memory_reservation, " MiB"));
        field(&mut out, "entryPoint", list(&c.entry_point));
        field(&mut out, "command", list(&c.command));
        let ports: Vec<String> = c.port_mappings.iter().map(|p| p.to_string()).collect();
        field(&mut out, "ports", or_none(&ports.join(", ")));
        field(
            &mut out,
            "health check",
            c.health_check
                .as_ref()
                .map_or("none".into(), |h| h.to_string()),
        );
        field(
            &mut out,
            "readonlyRootFilesystem",
            c.readonly_root_filesystem.to_string(),
        );
        field(
            &mut out,
            "initProcessEnabled",
            opt(c.init_process_enabled, ""),
        );
        field(
            &mut out,
            "stopTimeout",
            c.stop_timeout
                .map_or("30s (default)".into(), |s| format!("{s}s")),
        );
        for u in &c.ulimits {
            field(
                &mut out,
                "ulimit",
                format!("{} soft {} hard {}", u.name, u.soft, u.hard),
            );
        }
        field(&mut out, "log driver", or_none(&c.log_driver));
        for (k, v) in &c.log_options {
            field(&mut out, "log option", format!("{k}={v}"));
        }
        for (k, from) in &c.log_secret_options {
            field(&mut out, "log secret", format!("{k} ← {}", reference(from)));
        }
        if !c.environment.is_empty() {
            out.push("  environment".into());
            for (k, v) in &c.environment {
                out.push(format!("    {}", env_text(k, v)));
            }
        }
        if !c.secrets.is_empty() {
            out.push("  secrets (references; values are never read)".into());
            for (k, from) in &c.secrets {
                out.push(format!("    {k} ← {}", reference(from)));
            }
        }
    }
    out
}

/// Where a secret comes from, named without its value: `Secrets Manager prod/db` or
/// `Parameter Store /prod/api/token`.
fn reference(value_from: &str) -> String {
    if value_from.contains(":secretsmanager:") {
        // arn:aws:secretsmanager:region:acct:secret:name-AbCdEf[:json-key:…]
        let name = value_from.split(":secret:").nth(1).unwrap_or(value_from);
        format!("Secrets Manager {name}")
    } else if value_from.contains(":ssm:") {
        let name = value_from.split(":parameter").nth(1).unwrap_or(value_from);
        format!("Parameter Store {name}")
    } else {
        format!("Parameter Store {value_from}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerHealthCheck, PortMapping, Ulimit};

    fn app(image: &str) -> ContainerDefinition {
        ContainerDefinition {
            name: "app".into(),
            image: image.into(),
            memory: Some(512),
            memory_reservation: Some(256),
            essential: true,
            log_driver: "awslogs".into(),
            log_options: vec![("awslogs-group".into(), "/ecs/cart".into())],
            environment: vec![
                ("DB_PASSWORD".into(), "hunter2".into()),
                ("LOG_LEVEL".into(), "info".into()),
            ],
            secrets: vec![(
                "API_TOKEN".into(),
                "arn:aws:secretsmanager:eu-west-1:1:secret:prod/api-AbCdEf".into(),
            )],
            command: vec!["serve".into()],
            port_mappings: vec![PortMapping {
                container_port: 8080,
                protocol: "tcp".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn def(revision: u32, containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition {
            reference: TaskDefRef::from_arn(&format!("cart:{revision}")),
            cpu: Some(512),
            memory: Some(1024),
            network_mode: "awsvpc".into(),
            containers,
            ..Default::default()
        }
    }

    #[test]
    fn identical_revisions_have_no_diff() {
        let a = def(1, vec![app("r/cart:1.0")]);
        let b = def(2, vec![app("r/cart:1.0")]);
        let d = diff(&a, &b);
        assert!(d.is_empty(), "{:?}", d.all_lines());
        assert_eq!((d.from.revision, d.to.revision), (1, 2));
    }

    #[test]
    fn every_field_the_operator_cares_about_is_named() {
        let a = def(
            41,
            vec![app("123.dkr.ecr.eu-west-1.amazonaws.com/cart:1.4.2")],
        );
        let mut c = app("123.dkr.ecr.eu-west-1.amazonaws.com/cart:1.4.3");
        c.memory = Some(1024);
        c.memory_reservation = None;
        c.cpu = Some(256);
        c.environment = vec![
            ("LOG_LEVEL".into(), "debug".into()),
            ("FEATURE_X".into(), "on".into()),
        ];
        c.command = vec!["serve".into(), "--fast".into()];
        c.entry_point = vec!["/tini".into(), "--".into()];
        c.port_mappings.push(PortMapping {
            container_port: 9090,
            protocol: "tcp".into(),
            ..Default::default()
        });
        c.health_check = Some(ContainerHealthCheck {
            command: vec!["CMD-SHELL".into(), "curl -f localhost:8080/health".into()],
            interval_secs: Some(10),
            ..Default::default()
        });
        c.log_options = vec![("awslogs-group".into(), "/ecs/cart-v2".into())];
        c.ulimits = vec![Ulimit {
            name: "nofile".into(),
            soft: 65536,
            hard: 65536,
        }];
        c.readonly_root_filesystem = true;
        c.init_process_enabled = Some(true);
        c.stop_timeout = Some(120);
        let mut b = def(42, vec![c]);
        b.memory = Some(2048);
        let lines = diff(&a, &b).all_lines();
        let expect = [
            "~ memory 1024 MiB → 2048 MiB",
            "app: ~ image tag 1.4.2 → 1.4.3  (123.dkr.ecr.eu-west-1.amazonaws.com/cart)",
            "app: ~ cpu not set → 256 units",
            "app: ~ memory (hard) 512 MiB → 1024 MiB",
            "app: ~ memory (soft) 256 MiB → not set",
            "app: ~ entryPoint not set → [\"/tini\",\"--\"]",
            "app: ~ command [\"serve\"] → [\"serve\",\"--fast\"]",
            "app: + env FEATURE_X=on",
            "app: ~ env LOG_LEVEL: info → debug",
            "app: - env DB_PASSWORD=(hidden)",
            "app: + port 9090/tcp",
            "app: + health check CMD-SHELL curl -f localhost:8080/health · every 10s, timeout 5s, 3 retries, start period 0s",
            "app: ~ log option awslogs-group: /ecs/cart → /ecs/cart-v2",
            "app: + ulimit nofile soft 65536 hard 65536",
            "app: ~ readonlyRootFilesystem false → true",
            "app: ~ initProcessEnabled not set → true",
            "app: ~ stopTimeout 30s (default) → 120s",
        ];
        assert_eq!(lines, expect);
    }

    #[test]
    fn secret_values_never_show_only_that_the_reference_changed() {
        let a = def(1, vec![app("r/cart:1")]);
        let mut c = app("r/cart:1");
        c.secrets = vec![
            (
                "API_TOKEN".into(),
                "arn:aws:secretsmanager:eu-west-1:1:secret:prod/api-v2-XyZ".into(),
            ),
            (
                "DB_URL".into(),
                "arn:aws:ssm:eu-west-1:1:parameter/prod/db".into(),
            ),
        ];
        c.environment = vec![
            ("DB_PASSWORD".into(), "correct-horse".into()),
            ("LOG_LEVEL".into(), "info".into()),
        ];
        c.log_secret_options = vec![("splunk-token".into(), "arn:aws:ssm:x:1:parameter/t".into())];
        let b = def(2, vec![c]);
        let lines = diff(&a, &b).all_lines();
        assert_eq!(
            lines,
            [
                "app: ~ env DB_PASSWORD: value changed (hidden)",
                "app: ~ secret API_TOKEN: reference changed",
                "app: + secret DB_URL",
                "app: + log secret splunk-token",
            ]
        );
        let all = lines.join("\n");
        for leaked in [
            "hunter2",
            "correct-horse",
            "prod/api",
            "parameter/prod/db",
            "secretsmanager",
        ] {
            assert!(!all.contains(leaked), "{leaked} leaked: {all}");
        }
        let text = describe(&b).join("\n");
        assert!(!text.contains("correct-horse"), "{text}");
        assert!(text.contains("DB_PASSWORD=(hidden)"), "{text}");
        assert!(
            text.contains("API_TOKEN ← Secrets Manager prod/api-v2-XyZ"),
            "{text}"
        );
        assert!(text.contains("LOG_LEVEL=info"), "{text}");
    }

    #[test]
    fn containers_added_and_removed_and_images_from_other_repositories() {
        let mut sidecar = app("public.ecr.aws/datadog/agent:7");
        sidecar.name = "datadog".into();
        let a = def(1, vec![app("r/cart:1"), sidecar]);
        let mut envoy = app("envoy:1.29");
        envoy.name = "envoy".into();
        let b = def(2, vec![app("other/cart@sha256:abc"), envoy]);
        let d = diff(&a, &b);
        assert_eq!(
            d.all_lines(),
            [
                "+ container envoy (envoy:1.29)",
                "- container datadog (public.ecr.aws/datadog/agent:7)",
                "app: ~ image r/cart:1 → other/cart@sha256:abc",
            ]
        );
    }

    #[test]
    fn images_split_at_the_tag_not_at_a_registry_port() {
        assert_eq!(split_image("host:5000/app:1.2"), ("host:5000/app", "1.2"));
        assert_eq!(split_image("host:5000/app"), ("host:5000/app", "latest"));
        assert_eq!(split_image("app@sha256:ff"), ("app", "@sha256:ff"));
        assert!(looks_secret("stripe_api_key"));
        assert!(!looks_secret("LOG_LEVEL"));
    }
}
