//! `m`: CloudWatch charts of the selected cluster, service, task (or container's task) or
//! instance, and the keys that change their window.

use crate::keymap::Command;
use crate::model::arn::target_group_name;
use crate::model::{Insights, MetricId, Task, metric_catalog as cat};
use crate::screen::panes::{self, Items};
use crate::state::{Chart, ChartLine, ChartWindow, Level, Pane, Popup, State};

fn line(label: &str, metric: MetricId) -> ChartLine {
    ChartLine {
        label: label.into(),
        percent: metric.is_percent(),
        metric,
        scale: 1.0,
    }
}

/// A task metric drawn as a share of the task's size when the size is known.
fn share(label: &str, metric: MetricId, capacity: Option<u32>) -> ChartLine {
    match capacity.filter(|&c| c > 0) {
        Some(c) => ChartLine {
            scale: 100.0 / f64::from(c),
            percent: true,
            ..line(label, metric)
        },
        None => line(label, metric),
    }
}

fn task_chart(state: &State, task: &Task) -> Chart {
    let cluster = cat::cluster_of(&task.cluster_arn);
    let note = match state.fleet.insights(cluster) {
        Some(Insights::Enhanced) | None => None,
        Some(_) => Some(format!(
            "no per-task metrics: turn on Container Insights with enhanced observability for {cluster}"
        )),
    };
    Chart {
        title: format!("task {}", task.short_id()),
        groups: vec![
            (
                "CPU and memory, % of the task's size".into(),
                vec![
                    share("cpu", cat::task_cpu(task), task.cpu),
                    share("memory", cat::task_memory(task), task.memory),
                ],
            ),
            (
                "Network, bytes a second".into(),
                vec![
                    line("received", cat::task_network_rx(task)),
                    line("sent", cat::task_network_tx(task)),
                ],
            ),
        ],
        window: ChartWindow::default(),
        scroll: 0,
        note,
    }
}

/// The chart for the selected row, or why there is none.
pub fn build(state: &State) -> Result<Chart, String> {
    let view = state.focused();
    if let Pane::Containers { .. } = &view.pane {
        let task = state.fleet.tasks(&view.pane.query()).first();
        return task
            .map(|t| task_chart(state, t))
            .ok_or_else(|| "the task is not loaded yet".into());
    }
    let i = view.selected_item().ok_or("nothing selected to chart")?;
    let chart =
        |title: String, groups: Vec<(String, Vec<ChartLine>)>, note: Option<String>| Chart {
            title,
            groups,
            window: ChartWindow::default(),
            scroll: 0,
            note,
        };
    Ok(match panes::items(&view.pane, &state.fleet) {
        Items::Clusters(v) => {
            let c = &v[i];
            chart(
                format!("cluster {}", c.name),
                vec![
                    (
                        "Utilization %".into(),
                        vec![
                            line("cpu", cat::cluster_cpu(c)),
                            line("memory", cat::cluster_memory(c)),
                        ],
                    ),
                    (
                        "Reservation %".into(),
                        vec![
                            line("cpu", cat::cluster_cpu_reserved(c)),
                            line("memory", cat::cluster_memory_reserved(c)),
                        ],
                    ),
                ],
                None,
            )
        }
        Items::Services(v) => {
            let s = &v[i];
            let mut groups = vec![(
                "CPU and memory utilization %".into(),
                vec![
                    line("cpu", cat::service_cpu(s)),
                    line("memory", cat::service_memory(s)),
                ],
            )];
            let lb = cat::service_chart(s);
            let several = s.target_group_lbs.len() > 1;
            let label = |m: &MetricId, what: &str| {
                let tg = m.dimension("TargetGroup").unwrap_or_default();
                if several {
                    format!("{what} {}", target_group_name(tg))
                } else {
                    what.to_string()
                }
            };
            for (title, names) in [
                ("Requests", &["RequestCount"][..]),
                ("Target 5xx responses", &["HTTPCode_Target_5XX_Count"][..]),
                ("Target response time (s)", &["TargetResponseTime"][..]),
                ("Targets", &["HealthyHostCount", "UnHealthyHostCount"][..]),
            ] {
                let lines: Vec<ChartLine> = lb
                    .iter()
                    .filter(|m| names.contains(&m.name.as_str()))
                    .map(|m| {
                        let what = match m.name.as_str() {
                            "HealthyHostCount" => "healthy",
                            "UnHealthyHostCount" => "unhealthy",
                            "RequestCount" => "requests",
                            "HTTPCode_Target_5XX_Count" => "5xx",
                            _ => "seconds",
                        };
                        line(&label(m, what), m.clone())
                    })
                    .collect();
                if !lines.is_empty() {
                    groups.push((title.into(), lines));
                }
            }
            let note = match (s.target_group_arns.is_empty(), s.target_group_lbs.is_empty()) {
                (true, _) => None,
                (false, true) => Some(
                    "load balancer metrics unavailable: the target groups' load balancer is unknown"
                        .into(),
                ),
                (false, false) => None,
            };
            chart(format!("service {}", s.name), groups, note)
        }
        Items::Tasks(v, ..) => task_chart(state, &v[i]),
        Items::Instances(v) => {
            let inst = &v[i];
            let mut groups = vec![(
                "CPU utilization %".into(),
                vec![line("cpu", cat::instance_cpu(inst))],
            )];
            if let Some(credits) = cat::instance_credits(inst) {
                groups.push(("CPU credit balance".into(), vec![line("credits", credits)]));
            }
            groups.push((
                "Network, bytes a second".into(),
                vec![
                    line("in", cat::instance_network_in(inst)),
                    line("out", cat::instance_network_out(inst)),
                ],
            ));
            chart(format!("instance {}", inst.ec2_instance_id), groups, None)
        }
        Items::Containers(_) => unreachable!("handled above"),
    })
}

pub fn open(state: &mut State) {
    match build(state) {
        Ok(chart) => state.popups.push(Popup::Chart(chart)),
        Err(why) => state.set_status(Level::Info, why),
    }
}

/// Window keys on an open chart. Returns whether the command was one of them.
pub fn key(chart: &mut Chart, command: Command) -> bool {
    chart.window = match command {
        Command::WindowNext => chart.window.next(),
        Command::WindowPrevious => chart.window.previous(),
        Command::Window1 => ChartWindow::Hour,
        Command::Window2 => ChartWindow::ThreeHours,
        Command::Window3 => ChartWindow::TwelveHours,
        Command::Window4 => ChartWindow::Day,
        Command::Window5 => ChartWindow::Week,
        _ => return false,
    };
    true
}
