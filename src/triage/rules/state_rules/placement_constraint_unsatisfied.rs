//! placement-constraint-unsatisfied: a service's placement constraints leave too few
//! instances for its tasks. From the service events, and computed from the constraints and
//! the instances where the expression only uses attributes the console knows.

use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{events_since, is_fargate, short, usable_instances};
use crate::model::{Evidence, Instance, Observation, Remedy, Service, Severity};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "placement-constraint-unsatisfied";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service's placement constraints leave too few instances for its tasks.",
    severities: WARNING,
    reads: &[
        Read::Api("ECS DescribeServices: events, placementConstraints"),
        Read::Api("ECS DescribeContainerInstances: instance type, availability zone"),
    ],
    limits: &[
        limit("events within", Value::Span(EVENT_WINDOW)),
        limit("computed shortfall held", Value::Span(COMPUTED_HOLD)),
    ],
};
const EVENT_WINDOW: TimeDelta = TimeDelta::minutes(5);
/// A computed shortfall must last this long (instances come and go during a refresh).
const COMPUTED_HOLD: TimeDelta = TimeDelta::minutes(2);

static EVENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)placement constraint|missing an attribute required by your task").unwrap()
});
static TERM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*attribute:(?<attr>[\w.-]+)\s*(?<op>==|!=|=~|!~|!in|not_in|not_equals|not_matches|equals|matches|in|!exists|exists)\s*(?<value>.*?)\s*$",
    )
    .unwrap()
});
static OR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\s+or\s+").unwrap());
static AND: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\s+and\s+").unwrap());

/// Evaluates a `memberOf` expression (cluster query language) against an instance, for the
/// attributes the console has: `ecs.instance-type` and `ecs.availability-zone`. `None` when
/// the expression uses anything else (custom attributes, `task:group`, parentheses).
pub fn member_of(expr: &str, i: &Instance) -> Option<bool> {
    if expr.contains('(') {
        return None;
    }
    let mut any = false;
    for alternative in OR.split(expr) {
        let mut all = true;
        for term in AND.split(alternative) {
            all &= term_holds(term, i)?;
        }
        any |= all;
    }
    Some(any)
}

fn term_holds(term: &str, i: &Instance) -> Option<bool> {
    let c = TERM.captures(term)?;
    let actual = match &c["attr"] {
        "ecs.instance-type" => i.instance_type.as_str(),
        "ecs.availability-zone" => i.availability_zone.as_str(),
        _ => return None,
    };
    let value = c["value"].trim_matches(|ch| ch == '"' || ch == '\'');
    let list = || {
        value
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|v| v.trim().trim_matches(|ch| ch == '"' || ch == '\''))
            .any(|v| v == actual)
    };
    let matches =
        || -> Option<bool> { Some(Regex::new(&format!("^(?:{value})$")).ok()?.is_match(actual)) };
    Some(match &c["op"] {
        "==" | "equals" => actual == value,
        "!=" | "not_equals" => actual != value,
        "in" => list(),
        "!in" | "not_in" => !list(),
        "=~" | "matches" => matches()?,
        "!~" | "not_matches" => !matches()?,
        "exists" => !actual.is_empty(),
        "!exists" => actual.is_empty(),
        _ => return None,
    })
}

/// What the constraints allow: the eligible instances and the constraint that binds, when
/// every expression can be evaluated.
struct Shortfall {
    constraint: String,
    eligible: usize,
}

fn computed(input: &Input, s: &Service) -> Option<Shortfall> {
    if is_fargate(s) || s.desired == 0 || s.placement_constraints.is_empty() {
        return None;
    }
    let instances = usable_instances(input, Input::cluster_name(&s.cluster_arn));
    let expressions: Vec<&str> = s
        .placement_constraints
        .iter()
        .filter_map(|c| c.strip_prefix("memberOf(")?.strip_suffix(')'))
        .collect();
    let mut eligible: Vec<&Instance> = Vec::new();
    for i in instances {
        let mut ok = true;
        for expr in &expressions {
            ok &= member_of(expr, i)?;
        }
        if ok {
            eligible.push(i);
        }
    }
    let distinct = s
        .placement_constraints
        .iter()
        .any(|c| c.starts_with("distinctInstance"));
    if !expressions.is_empty() && eligible.is_empty() {
        return Some(Shortfall {
            constraint: expressions
                .iter()
                .map(|e| format!("memberOf({e})"))
                .collect::<Vec<_>>()
                .join(" and "),
            eligible: 0,
        });
    }
    (distinct && s.desired as usize > eligible.len()).then(|| Shortfall {
        constraint: if expressions.is_empty() {
            "distinctInstance".into()
        } else {
            format!(
                "distinctInstance with memberOf({})",
                expressions.join(") and memberOf(")
            )
        },
        eligible: eligible.len(),
    })
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE")
        .filter_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    let events: Vec<_> = events_since(s, input.now - EVENT_WINDOW, |m| EVENT.is_match(m)).collect();
    let shortfall = computed(input, s);
    if events.is_empty() && shortfall.is_none() {
        return None;
    }
    let message = match &shortfall {
        Some(sf) => format!(
            "{}: constraint {} is satisfiable on {} instance(s) but {} tasks are wanted",
            s.name, sf.constraint, sf.eligible, s.desired
        ),
        None => {
            let constraints = if s.placement_constraints.is_empty() {
                "of the task definition".to_string()
            } else {
                s.placement_constraints.join(", ")
            };
            format!(
                "{}: placement constraint {constraints} is not satisfied — {} tasks wanted, {} running ({})",
                s.name,
                s.desired,
                s.running,
                short(&events[0].message, 160)
            )
        }
    };
    let mut obs = Observation::new(ID, Severity::Warning, service_subject(s), message)
        .next(
            "Fix the expression (a typo, or an instance type the Auto Scaling group does not \
             launch) or add matching instances. For distinctInstance, add instances or lower \
             the desired count with scale service.",
        )
        .remedies(&[Remedy::Events, Remedy::Scale]);
    for e in events.iter().take(3) {
        obs = obs.evidence(Evidence::at(e.at, e.message.clone()));
    }
    match events.iter().map(|e| e.at).min() {
        Some(first) => obs = obs.since(first),
        None => obs = obs.hold(COMPUTED_HOLD),
    }
    if let Some(sf) = shortfall {
        obs = obs.evidence(Evidence::at(
            input.now,
            format!(
                "constraints [{}]: {} ACTIVE connected instance(s) eligible, desired {}",
                s.placement_constraints.join(", "),
                sf.eligible,
                s.desired
            ),
        ));
    }
    Some(obs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn two_instances(constraints: &[&str], desired: u32) -> Facts {
        let mut f = facts();
        let mut s = service("web");
        s.desired = desired;
        s.placement_constraints = constraints.iter().map(|c| c.to_string()).collect();
        f.services = vec![s];
        let mut i2 = instance("i-2", "eu-west-1b");
        i2.instance_type = "c5.large".into();
        f.instances = vec![instance("i-1", "eu-west-1a"), i2];
        f
    }

    #[test]
    fn member_of_expressions() {
        let i = instance("i-1", "eu-west-1a");
        assert_eq!(
            member_of("attribute:ecs.instance-type == m5.large", &i),
            Some(true)
        );
        assert_eq!(
            member_of("attribute:ecs.instance-type != m5.large", &i),
            Some(false)
        );
        assert_eq!(
            member_of("attribute:ecs.instance-type =~ m5.*", &i),
            Some(true)
        );
        assert_eq!(
            member_of("attribute:ecs.instance-type =~ t3.*", &i),
            Some(false)
        );
        assert_eq!(
            member_of(
                "attribute:ecs.availability-zone in [eu-west-1b, eu-west-1c]",
                &i
            ),
            Some(false)
        );
        assert_eq!(
            member_of("attribute:ecs.availability-zone not_in [eu-west-1b]", &i),
            Some(true)
        );
        assert_eq!(
            member_of(
                "attribute:ecs.instance-type == t3.small or attribute:ecs.availability-zone == eu-west-1a",
                &i
            ),
            Some(true)
        );
        assert_eq!(
            member_of(
                "attribute:ecs.instance-type == m5.large and attribute:ecs.availability-zone == eu-west-1b",
                &i
            ),
            Some(false)
        );
        assert_eq!(member_of("attribute:stack == prod", &i), None);
        assert_eq!(member_of("task:group == service:web", &i), None);
    }

    #[test]
    fn distinct_instance_with_more_tasks_than_instances() {
        let f = two_instances(&["distinctInstance"], 3);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].hold, Some(COMPUTED_HOLD));
        assert_eq!(
            found[0].message,
            "web: constraint distinctInstance is satisfiable on 2 instance(s) but 3 tasks are wanted"
        );
        // At and below the instance count: quiet.
        assert!(check(&two_instances(&["distinctInstance"], 2).input()).is_empty());
    }

    #[test]
    fn disconnected_instances_are_not_eligible() {
        let mut f = two_instances(&["distinctInstance"], 2);
        f.instances[1].agent_connected = false;
        assert!(
            check(&f.input())[0]
                .message
                .contains("on 1 instance(s) but 2")
        );
    }

    #[test]
    fn member_of_matching_no_instance() {
        let f = two_instances(&["memberOf(attribute:ecs.instance-type == m5.xlarge)"], 2);
        let found = check(&f.input());
        assert_eq!(
            found[0].message,
            "web: constraint memberOf(attribute:ecs.instance-type == m5.xlarge) is satisfiable on 0 instance(s) but 2 tasks are wanted"
        );
        assert!(
            check(
                &two_instances(&["memberOf(attribute:ecs.instance-type == c5.large)"], 2).input()
            )
            .is_empty()
        );
    }

    #[test]
    fn member_of_narrows_distinct_instance() {
        let f = two_instances(
            &[
                "distinctInstance",
                "memberOf(attribute:ecs.availability-zone == eu-west-1a)",
            ],
            2,
        );
        assert!(
            check(&f.input())[0]
                .message
                .contains("satisfiable on 1 instance(s) but 2")
        );
    }

    #[test]
    fn unknown_attributes_leave_only_the_event_branch() {
        let mut f = two_instances(&["memberOf(attribute:stack == blue)"], 2);
        assert!(check(&f.input()).is_empty());
        f.services[0].events = vec![event(
            mins_ago(2),
            "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 1) is missing an attribute required by your task.",
        )];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hold, None);
        assert_eq!(found[0].since, Some(mins_ago(2)));
        assert!(found[0].message.starts_with("web: placement constraint memberOf(attribute:stack == blue) is not satisfied — 2 tasks wanted, 2 running"));
        // Older than five minutes: quiet again.
        f.services[0].events[0].at = mins_ago(6);
        assert!(check(&f.input()).is_empty());
    }
}
