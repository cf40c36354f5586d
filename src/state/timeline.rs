//! The incident timeline: service events, deployments and rollbacks, task stops, findings
//! opening and closing, alarm state changes and the operator's own actions, in time order.

use crate::model::{Alarm, AlarmState, Finding, Service, Severity, Task, Time, metric_catalog};

/// Entries kept (oldest dropped first, a tenth at a time: up to a tenth more between trims).
const KEEP: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TimelineKind {
    ServiceEvent,
    Deployment,
    Rollback,
    TaskStopped,
    FindingOpened,
    FindingEscalated,
    FindingResolved,
    Alarm,
    Operator,
}

impl TimelineKind {
    /// The short word shown in the kind column.
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::ServiceEvent => "event",
            TimelineKind::Deployment => "deploy",
            TimelineKind::Rollback => "rollback",
            TimelineKind::TaskStopped => "stop",
            TimelineKind::FindingOpened => "finding",
            TimelineKind::FindingEscalated => "finding",
            TimelineKind::FindingResolved => "resolved",
            TimelineKind::Alarm => "alarm",
            TimelineKind::Operator => "you",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TimelineEntry {
    pub at: Time,
    pub kind: TimelineKind,
    pub cluster: Option<String>,
    pub service: Option<String>,
    /// What it is about, as operators name it (`prod/web`, `i-0abc…`).
    pub subject: String,
    pub text: String,
    /// Findings carry their severity (for colour); other entries have none.
    pub severity: Option<Severity>,
}

#[derive(Debug, Default)]
pub struct Timeline {
    /// By time, then by arrival (of two at one time, the one recorded first comes first). A
    /// tree, not a list: events come with their own earlier times, and inserting 2,000
    /// services' events into the middle of 10,000 entries shifted them all, each time.
    entries: std::collections::BTreeMap<(Time, u64), TimelineEntry>,
    /// Arrival order of the next entry.
    arrivals: u64,
    /// Identities of what was already recorded (event ids, deployment states, stops).
    /// With when each happened: keys older than the oldest entry kept are forgotten (what
    /// they name would be dropped again at once), so the set stays bounded.
    seen: std::collections::HashMap<String, Time>,
    /// The last recorded state of each alarm.
    alarm_states: std::collections::HashMap<String, String>,
    /// The newest event id of each service (by ARN) as last read: an answer whose newest
    /// event is the same brings no news, and its 100 events are not looked at again (2,000
    /// services are answered every half minute).
    newest_event: std::collections::HashMap<String, String>,
    /// Each deployment's state as last read (by deployment id): the same state again is
    /// passed over without naming it (2,000 services' deployments every half minute).
    deployment_states: std::collections::HashMap<String, String>,
}

/// What a deployment's timeline entry says it is: its rollout state, else its status.
fn state_of(d: &crate::model::Deployment) -> &str {
    if d.rollout_state.is_empty() {
        d.status.as_str()
    } else {
        d.rollout_state.as_str()
    }
}

impl Timeline {
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &TimelineEntry> {
        self.entries.values()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries from `since` on, optionally of one service (`cluster/service`), oldest first.
    pub fn since<'a>(
        &'a self,
        since: Time,
        service: Option<&'a (String, String)>,
    ) -> impl DoubleEndedIterator<Item = &'a TimelineEntry> + 'a {
        self.entries
            .range((since, 0)..)
            .map(|(_, e)| e)
            .filter(move |e| match service {
                None => true,
                Some((c, s)) => {
                    e.cluster.as_deref() == Some(c.as_str())
                        && e.service.as_deref() == Some(s.as_str())
                }
            })
    }

    pub fn push(&mut self, entry: TimelineEntry) {
        // Full, an entry older than all kept would be the one dropped: it is not taken (2,000
        // services' event histories would otherwise shift 10,000 entries for each of them).
        if self.entries.len() >= KEEP && self.oldest().is_some_and(|at| entry.at < at) {
            return;
        }
        // After every entry of the same time: in order of arrival.
        self.arrivals += 1;
        self.entries.insert((entry.at, self.arrivals), entry);
        // Trimmed by a tenth at a time, not one entry per push.
        if self.entries.len() > KEEP + KEEP / 10 {
            let drop = self.entries.len() - KEEP;
            for _ in 0..drop {
                self.entries.pop_first();
            }
            if self.seen.len() > 2 * KEEP
                && let Some(oldest) = self.oldest()
            {
                self.seen.retain(|_, at| *at >= oldest);
            }
        }
    }

    /// The time of the oldest entry kept.
    fn oldest(&self) -> Option<Time> {
        self.entries.first_key_value().map(|((at, _), _)| *at)
    }

    /// Whether an entry at `at` would be kept (not older than everything a full timeline has).
    fn would_keep(&self, at: Time) -> bool {
        self.entries.len() < KEEP || self.oldest().is_none_or(|oldest| at >= oldest)
    }

    /// Whether `key` (happening at `at`) is recorded for the first time.
    fn once(&mut self, key: String, at: Time) -> bool {
        self.seen.insert(key, at).is_none()
    }

    pub fn finding(&mut self, now: Time, kind: TimelineKind, f: &Finding, what: &str) {
        let subject = &f.current.subject;
        self.push(TimelineEntry {
            at: now,
            kind,
            cluster: Some(subject.cluster().to_string()),
            service: subject.service().map(str::to_string),
            subject: subject.label(),
            text: format!("{} {what}: {}", f.current.rule, f.current.message),
            severity: Some(f.current.severity),
        });
    }

    /// Records the events and deployment state changes of an answer's services not recorded
    /// yet. Events older than the answer's own 10,000th newest would be trimmed as soon as
    /// kept: they are passed over unread (a big cluster's first answer brings 1,200
    /// services' 100 events each).
    pub fn services(&mut self, services: &[&Service]) {
        let mut times: Vec<Time> = services
            .iter()
            .flat_map(|s| s.events.iter().map(|e| e.at))
            .collect();
        let since = (times.len() > KEEP).then(|| {
            let (_, nth, _) = times.select_nth_unstable_by(KEEP - 1, |a, b| b.cmp(a));
            *nth
        });
        for service in services {
            self.service_since(service, since);
        }
    }

    /// Records a service's events and deployment state changes not recorded yet.
    pub fn service(&mut self, service: &Service) {
        self.service_since(service, None);
    }

    /// [`Timeline::service`], passing over events before `since`.
    fn service_since(&mut self, service: &Service, since: Option<Time>) {
        let newest = service.events.iter().max_by_key(|e| e.at).map(|e| &e.id);
        let news = newest.is_some_and(|id| self.newest_event.get(service.arn.as_str()) != Some(id));
        let moved = service.deployments.iter().any(|d| {
            self.deployment_states
                .get(d.id.as_str())
                .map(String::as_str)
                != Some(state_of(d))
        });
        if !news && !moved {
            return;
        }
        if let Some(id) = newest.filter(|_| news) {
            self.newest_event.insert(service.arn.clone(), id.clone());
        }
        let cluster = metric_catalog::cluster_of(&service.cluster_arn).to_string();
        let subject = format!("{cluster}/{}", service.name);
        for event in service.events.iter().filter(|_| news) {
            // Too old to be kept: not remembered either (`seen` would only grow).
            if since.is_some_and(|since| event.at < since)
                || !self.would_keep(event.at)
                || !self.once(format!("event {}", event.id), event.at)
            {
                continue;
            }
            let rollback = event.message.contains("rolling back")
                || event.message.contains("deployment failed");
            self.push(TimelineEntry {
                at: event.at,
                kind: if rollback {
                    TimelineKind::Rollback
                } else {
                    TimelineKind::ServiceEvent
                },
                cluster: Some(cluster.clone()),
                service: Some(service.name.clone()),
                subject: subject.clone(),
                text: event.message.clone(),
                severity: None,
            });
        }
        for d in &service.deployments {
            let state = state_of(d);
            if self
                .deployment_states
                .get(d.id.as_str())
                .map(String::as_str)
                == Some(state)
            {
                continue;
            }
            self.deployment_states
                .insert(d.id.clone(), state.to_string());
            if !self.once(
                format!("deployment {} {state}", d.id),
                d.updated_at.or(d.created_at).unwrap_or_default(),
            ) {
                continue;
            }
            let Some(at) = d.updated_at.or(d.created_at) else {
                continue;
            };
            let failed = d.rollout_state == "FAILED";
            let mut text = format!(
                "deployment of {} {}",
                d.task_definition,
                state.to_lowercase()
            );
            if !d.rollout_reason.is_empty() && (failed || d.rollout_state == "COMPLETED") {
                text.push_str(&format!(": {}", d.rollout_reason));
            }
            self.push(TimelineEntry {
                at,
                kind: if failed {
                    TimelineKind::Rollback
                } else {
                    TimelineKind::Deployment
                },
                cluster: Some(cluster.clone()),
                service: Some(service.name.clone()),
                subject: subject.clone(),
                text,
                severity: None,
            });
        }
    }

    pub fn task_stopped(&mut self, task: &Task) {
        if !self.once(
            format!("stop {}", task.arn),
            task.stopped_at.or(task.stopping_at).unwrap_or_default(),
        ) {
            return;
        }
        let Some(at) = task.stopped_at.or(task.stopping_at) else {
            return;
        };
        let cluster = metric_catalog::cluster_of(&task.cluster_arn).to_string();
        let mut text = format!("task {} stopped", task.short_id());
        if !task.stop_code.is_empty() {
            text.push_str(&format!(" ({})", task.stop_code));
        }
        let codes = task.exit_codes();
        if !codes.is_empty() {
            text.push_str(&format!(", exit {codes}"));
        }
        if !task.stopped_reason.is_empty() {
            text.push_str(&format!(": {}", task.stopped_reason));
        }
        let service = task.service_name().map(str::to_string);
        self.push(TimelineEntry {
            at,
            kind: TimelineKind::TaskStopped,
            subject: match &service {
                Some(s) => format!("{cluster}/{s}"),
                None => cluster.clone(),
            },
            cluster: Some(cluster),
            service,
            text,
            severity: None,
        });
    }

    /// Records alarms whose state differs from the one last recorded for them.
    pub fn alarms(&mut self, now: Time, alarms: &[Alarm]) {
        for alarm in alarms {
            let state = match alarm.state {
                AlarmState::Ok => "OK",
                AlarmState::Alarm => "ALARM",
                AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            };
            // A change of state is news; a new evaluation time in the same state is not.
            let key = state.to_string();
            let previous = self.alarm_states.insert(alarm.name.clone(), key.clone());
            if previous.as_ref() == Some(&key) {
                continue;
            }
            // The first sight of an alarm that is not firing is not a change worth a line.
            if previous.is_none() && alarm.state != AlarmState::Alarm {
                continue;
            }
            self.push(TimelineEntry {
                at: alarm.updated_at.unwrap_or(now),
                kind: TimelineKind::Alarm,
                cluster: alarm
                    .dimensions
                    .iter()
                    .find(|(k, _)| k == "ClusterName")
                    .map(|(_, v)| v.clone()),
                service: alarm
                    .dimensions
                    .iter()
                    .find(|(k, _)| k == "ServiceName")
                    .map(|(_, v)| v.clone()),
                subject: alarm.name.clone(),
                text: format!("{} → {state}: {}", alarm.name, alarm.reason),
                severity: None,
            });
        }
    }

    /// The operator's own action (from the audit record the gate writes).
    pub fn operator(
        &mut self,
        at: Time,
        cluster: Option<String>,
        service: Option<String>,
        text: String,
    ) {
        let subject = match (&cluster, &service) {
            (Some(c), Some(s)) => format!("{c}/{s}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        self.push(TimelineEntry {
            at,
            kind: TimelineKind::Operator,
            cluster,
            service,
            subject,
            text,
            severity: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Deployment, ServiceEvent, TaskDefRef};
    use chrono::{TimeDelta, TimeZone, Utc};

    fn t(secs: i64) -> Time {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap() + TimeDelta::seconds(secs)
    }

    fn web(events: Vec<ServiceEvent>, deployments: Vec<Deployment>) -> Service {
        Service {
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
            events,
            deployments,
            ..Service::default()
        }
    }

    #[test]
    fn a_big_answer_keeps_what_one_service_at_a_time_would() {
        // 30 services of 500 events each, interleaved in time: 15,000 events for 10,000 places.
        let services: Vec<Service> = (0..30)
            .map(|n| Service {
                arn: format!("arn:aws:ecs:eu-west-1:1:service/prod/s{n}"),
                name: format!("s{n}"),
                cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
                events: (0..500)
                    .map(|i| ServiceEvent {
                        id: format!("{n}-{i}"),
                        at: t(i * 30 + n),
                        message: "(service) has reached a steady state.".into(),
                    })
                    .collect(),
                ..Service::default()
            })
            .collect();
        let refs: Vec<&Service> = services.iter().collect();
        let mut batch = Timeline::default();
        batch.services(&refs);
        let mut one_by_one = Timeline::default();
        for s in &services {
            one_by_one.service(s);
        }
        let kept = |tl: &Timeline| -> Vec<(Time, String)> {
            let mut v: Vec<_> = tl.entries().map(|e| (e.at, e.subject.clone())).collect();
            v.sort();
            v.into_iter().rev().take(KEEP).collect()
        };
        assert_eq!(batch.entries().count(), KEEP);
        assert_eq!(kept(&batch), kept(&one_by_one));
        // The same answer again records nothing.
        batch.services(&refs);
        assert_eq!(batch.entries().count(), KEEP);
    }

    #[test]
    fn events_and_deployment_states_are_recorded_once_in_time_order() {
        let mut tl = Timeline::default();
        let ev = |id: &str, at, msg: &str| ServiceEvent {
            id: id.into(),
            at,
            message: msg.into(),
        };
        let dep = |state: &str, at| Deployment {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: TaskDefRef::from_arn("web:17"),
            rollout_state: state.into(),
            rollout_reason: "tasks failed to start; circuit breaker".into(),
            updated_at: Some(at),
            ..Deployment::default()
        };
        let svc = web(
            vec![
                ev("b", t(20), "(service web) has started 1 tasks"),
                ev("a", t(10), "(service web) has reached a steady state."),
            ],
            vec![dep("IN_PROGRESS", t(5))],
        );
        tl.service(&svc);
        tl.service(&svc);
        let svc = web(vec![], vec![dep("FAILED", t(30))]);
        tl.service(&svc);
        let got: Vec<_> = tl.entries().map(|e| (e.at, e.kind)).collect();
        assert_eq!(
            got,
            vec![
                (t(5), TimelineKind::Deployment),
                (t(10), TimelineKind::ServiceEvent),
                (t(20), TimelineKind::ServiceEvent),
                (t(30), TimelineKind::Rollback),
            ]
        );
        assert!(
            tl.entries()
                .last()
                .unwrap()
                .text
                .contains("circuit breaker")
        );
        let key = ("prod".to_string(), "web".to_string());
        assert_eq!(tl.since(t(15), Some(&key)).count(), 2);
        let other = ("prod".to_string(), "api".to_string());
        assert_eq!(tl.since(t(0), Some(&other)).count(), 0);
    }

    #[test]
    fn stops_carry_code_exit_and_reason() {
        let mut tl = Timeline::default();
        let task = Task {
            arn: "arn:aws:ecs:eu-west-1:1:task/prod/0123456789abcdef".into(),
            cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
            group: "service:web".into(),
            last_status: "STOPPED".into(),
            stop_code: "EssentialContainerExited".into(),
            stopped_reason: "Essential container in task exited".into(),
            stopped_at: Some(t(3)),
            containers: vec![crate::model::Container {
                name: "web".into(),
                exit_code: Some(137),
                ..Default::default()
            }],
            ..Task::default()
        };
        tl.task_stopped(&task);
        tl.task_stopped(&task);
        assert_eq!(tl.len(), 1);
        let e = tl.entries().next().unwrap();
        assert_eq!(e.subject, "prod/web");
        assert_eq!(
            e.text,
            "task 01234567 stopped (EssentialContainerExited), exit web=137: Essential container in task exited"
        );
    }

    #[test]
    fn alarm_changes_only() {
        let mut tl = Timeline::default();
        let alarm = |state, at| Alarm {
            name: "web-cpu-high".into(),
            state,
            namespace: "AWS/ECS".into(),
            metric: "CPUUtilization".into(),
            dimensions: vec![
                ("ServiceName".into(), "web".into()),
                ("ClusterName".into(), "prod".into()),
            ],
            threshold: 80.0,
            comparison: "GreaterThanThreshold".into(),
            reason: "Threshold crossed".into(),
            updated_at: Some(at),
        };
        tl.alarms(t(0), &[alarm(AlarmState::Ok, t(0))]);
        tl.alarms(t(30), &[alarm(AlarmState::Ok, t(30))]);
        assert!(
            tl.is_empty(),
            "an alarm seen OK, evaluated again OK, is no news"
        );
        tl.alarms(t(60), &[alarm(AlarmState::Alarm, t(50))]);
        tl.alarms(t(120), &[alarm(AlarmState::Alarm, t(110))]);
        tl.alarms(t(180), &[alarm(AlarmState::Ok, t(170))]);
        let got: Vec<_> = tl
            .entries()
            .map(|e| (e.at, e.text.contains("→ ALARM")))
            .collect();
        assert_eq!(got, vec![(t(50), true), (t(170), false)]);
        assert_eq!(tl.entries().next().unwrap().service.as_deref(), Some("web"));
    }
}
