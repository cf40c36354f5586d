//! Reading the parts operators care about out of ARNs, in one place so every pane, rule and
//! source names a task, a cluster or a target group the same way.
//!
//! Shapes handled (the resource part follows the fifth `:`):
//! - cluster `…:cluster/prod`
//! - service `…:service/prod/web` (new format) and `…:service/web` (old format)
//! - task `…:task/prod/0123abcd…` (new format) and `…:task/0123abcd…` (old format, no cluster)
//! - container instance `…:container-instance/prod/abc…` and `…:container-instance/abc…`
//! - target group `…:targetgroup/web/73e2d6bc24d8a067`
//! - load balancer `…:loadbalancer/app/edge/0123…` (also `net/…`)

/// The last path segment of an ARN: a task id, a cluster name, a new-format service name
/// (`arn:aws:ecs:…:task/prod/abc123` → `abc123`). Text without `/` comes back unchanged.
pub fn tail(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The first 8 characters of a task id, as tables and messages show it. Takes a task ARN or
/// a bare id.
pub fn short_task_id(task_arn: &str) -> &str {
    let id = tail(task_arn);
    // `get` rather than slicing: ids are ASCII, but a sanitized odd one must not panic.
    id.get(..8).unwrap_or(id)
}

/// `web` from `…:targetgroup/web/73e2d6bc24d8a067`, or from the CloudWatch dimension value
/// `targetgroup/web/73e2…`. Anything else comes back unchanged.
pub fn target_group_name(arn: &str) -> &str {
    resource_after(arn, ":targetgroup/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(arn)
}

/// `edge` from `…:loadbalancer/app/edge/0123…` (or `net/edge/…`). Anything else comes back
/// unchanged.
pub fn load_balancer_name(arn: &str) -> &str {
    resource_after(arn, ":loadbalancer/")
        .and_then(|rest| rest.split('/').nth(1))
        .unwrap_or(arn)
}

/// The resource part of an ELB ARN as CloudWatch's dimensions spell it:
/// `targetgroup/web/0123…` for a target group, `app/edge/4567…` for a load balancer.
pub fn target_group_dimension(tg_arn: &str) -> Option<&str> {
    // From just after the `:` that ends the ARN's prefix.
    tg_arn.find(":targetgroup/").map(|at| &tg_arn[at + 1..])
}

/// The load balancer's part of its ARN as CloudWatch's `LoadBalancer` dimension spells it.
pub fn load_balancer_dimension(lb_arn: &str) -> Option<&str> {
    lb_arn.split_once(":loadbalancer/").map(|(_, rest)| rest)
}

/// The cluster named inside a task, service or container-instance ARN (new format:
/// `…:task/prod/abc` → `prod`). Old-format ARNs (`…:task/abc`) carry no cluster: `None`.
pub fn cluster_in(arn: &str) -> Option<&str> {
    let (_, rest) = [":task/", ":service/", ":container-instance/"]
        .iter()
        .find_map(|kind| arn.split_once(kind))?;
    let (cluster, _) = rest.split_once('/')?;
    Some(cluster)
}

/// `(prod, web)` from a new-format service ARN `…:service/prod/web`; `None` for old-format
/// ones (`…:service/web`), which name no cluster.
pub fn service_key(service_arn: &str) -> Option<(&str, &str)> {
    let rest = service_arn.split_once(":service/")?.1;
    rest.split_once('/')
}

/// `arn:aws:ecs:r:a:cluster/prod` from a new-format task, service or container-instance ARN
/// of that cluster; `None` when the ARN names no cluster.
pub fn cluster_arn_of(arn: &str) -> Option<String> {
    let cluster = cluster_in(arn)?;
    let (prefix, _) = arn.rsplit_once(':')?;
    Some(format!("{prefix}:cluster/{cluster}"))
}

/// The ARN of the cluster an ECS resource ARN (service, task, container instance) belongs to.
/// An old-format ARN (`…:service/web`) names no cluster: the one asked about, `cluster`, is
/// used. Empty for text that is no ARN.
pub fn cluster_arn_or(arn: &str, cluster: &str) -> String {
    cluster_arn_of(arn)
        .or_else(|| {
            let (prefix, _) = arn.rsplit_once(':')?;
            Some(format!("{prefix}:cluster/{}", tail(cluster)))
        })
        .unwrap_or_default()
}

/// What follows `kind` (`:targetgroup/`) in an ARN, or at the start of a bare resource
/// (`targetgroup/…`, as CloudWatch dimensions spell it).
fn resource_after<'a>(arn: &'a str, kind: &str) -> Option<&'a str> {
    match arn.split_once(kind) {
        Some((_, rest)) => Some(rest),
        None => arn.strip_prefix(&kind[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str =
        "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
    const OLD_TASK: &str =
        "arn:aws:ecs:us-east-1:123456789012:task/3f2a9c1e-7b4d-4e21-9a0b-5c6d7e8f9a0b";
    const SERVICE: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
    const OLD_SERVICE: &str = "arn:aws:ecs:us-east-1:123456789012:service/web";
    const CLUSTER: &str = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";
    const INSTANCE: &str = "arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/8d1e0a5b6c7f4e2a9b3c4d5e6f708192";
    const TG: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-web/73e2d6bc24d8a067";
    const ALB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188";
    const NLB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/edge-tcp/0123456789abcdef";

    #[test]
    fn tail_is_the_last_segment() {
        assert_eq!(tail(TASK), "0123456789abcdef0123456789abcdef");
        assert_eq!(tail(OLD_TASK), "3f2a9c1e-7b4d-4e21-9a0b-5c6d7e8f9a0b");
        assert_eq!(tail(CLUSTER), "prod");
        assert_eq!(tail(SERVICE), "web");
        assert_eq!(tail(OLD_SERVICE), "web");
        assert_eq!(tail("plain"), "plain");
    }

    #[test]
    fn short_task_id_takes_eight_characters_of_the_id() {
        assert_eq!(short_task_id(TASK), "01234567");
        assert_eq!(short_task_id(OLD_TASK), "3f2a9c1e");
        assert_eq!(short_task_id("0123456789abcdef"), "01234567");
        assert_eq!(short_task_id("abc"), "abc");
        assert_eq!(short_task_id(""), "");
    }

    #[test]
    fn short_task_id_does_not_split_a_character() {
        // Eight bytes would cut `é` in half: the whole id comes back instead of a panic.
        assert_eq!(short_task_id("abcdefgé"), "abcdefgé");
    }

    #[test]
    fn target_group_name_from_an_arn_and_a_dimension() {
        assert_eq!(target_group_name(TG), "tg-web");
        assert_eq!(
            target_group_name("targetgroup/tg-web/73e2d6bc24d8a067"),
            "tg-web"
        );
        assert_eq!(target_group_name("tg-web"), "tg-web");
        // An ELB ARN of another kind is not a target group: returned whole.
        assert_eq!(target_group_name(ALB), ALB);
    }

    #[test]
    fn load_balancer_name_skips_the_type() {
        assert_eq!(load_balancer_name(ALB), "edge");
        assert_eq!(load_balancer_name(NLB), "edge-tcp");
        assert_eq!(load_balancer_name(TG), TG);
    }

    #[test]
    fn dimensions_are_the_resource_parts() {
        assert_eq!(
            target_group_dimension(TG),
            Some("targetgroup/tg-web/73e2d6bc24d8a067")
        );
        assert_eq!(
            load_balancer_dimension(ALB),
            Some("app/edge/50dc6c495c0c9188")
        );
        assert_eq!(target_group_dimension(ALB), None);
        assert_eq!(load_balancer_dimension(TG), None);
    }

    #[test]
    fn cluster_in_new_format_arns_only() {
        assert_eq!(cluster_in(TASK), Some("prod"));
        assert_eq!(cluster_in(SERVICE), Some("prod"));
        assert_eq!(cluster_in(INSTANCE), Some("prod"));
        // Old formats name no cluster: the id must not be mistaken for one.
        assert_eq!(cluster_in(OLD_TASK), None);
        assert_eq!(cluster_in(OLD_SERVICE), None);
        assert_eq!(cluster_in(CLUSTER), None);
        assert_eq!(cluster_in(TG), None);
        assert_eq!(
            cluster_in("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"),
            None
        );
    }

    #[test]
    fn service_key_splits_cluster_and_name() {
        assert_eq!(service_key(SERVICE), Some(("prod", "web")));
        assert_eq!(service_key(OLD_SERVICE), None);
        assert_eq!(service_key(TASK), None);
    }

    #[test]
    fn cluster_arn_of_a_container_instance() {
        assert_eq!(cluster_arn_of(INSTANCE).as_deref(), Some(CLUSTER));
        assert_eq!(cluster_arn_of(TASK).as_deref(), Some(CLUSTER));
        assert_eq!(cluster_arn_of(OLD_TASK), None);
    }
}
