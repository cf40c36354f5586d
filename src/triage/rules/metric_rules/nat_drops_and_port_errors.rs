//! nat-drops-and-port-errors: a NAT gateway that serves the cluster's subnets could not give
//! new connections a source port (critical, any minute), or drops packets for 3 minutes in a
//! row (warning). Drops count only from 0.01 % of the packets the gateway received: AWS's own
//! guidance for when `PacketsDropCount` deserves a look; a busy gateway drops a few now and then.

use super::util::{grouped, nat_services};
use crate::model::{Evidence, Observation, Remedy, Severity, Subject, metric_catalog as cat};
use crate::triage::Input;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "nat-drops-and-port-errors";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A NAT gateway the cluster's subnets route through fails to allocate source ports (critical) or drops packets minute after minute.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api(
            "EC2 DescribeRouteTables and DescribeNatGateways: the NAT gateway of each service subnet's default route",
        ),
        Read::Metric(
            "AWS/NATGateway ErrorPortAllocation, PacketsDropCount and PacketsInFromSource Sum, per gateway",
        ),
    ],
    limits: &[
        limit("any port-allocation error over", Value::Minutes(WINDOW)),
        limit("or dropped share of packets ≥", Value::Share(DROP_SHARE)),
        limit("each minute for", Value::Minutes(WINDOW)),
    ],
};

const WINDOW: i64 = 3;
/// Dropped share of the packets in from the VPC that counts (AWS's guidance).
const DROP_SHARE: f64 = 0.000_1;

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &(cluster, g) in &input.nat_gateways {
        let sum = |m| -> f64 { input.window(&m, WINDOW).iter().map(|p| p.value).sum() };
        let port_errors = sum(cat::nat_port_allocation_errors(&g.id));
        let drops = sum(cat::nat_packets_dropped(&g.id));
        let packets = sum(cat::nat_packets_in(&g.id));
        let dropping = input.held(&cat::nat_packets_dropped(&g.id), WINDOW, |v| v > 0.0)
            && (packets <= 0.0 || drops >= DROP_SHARE * packets);
        let severity = if port_errors > 0.0 {
            Severity::Critical
        } else if dropping {
            Severity::Warning
        } else {
            continue;
        };
        let mut o = Observation::new(
            ID,
            severity,
            Subject::Cluster {
                cluster: cluster.to_string(),
            },
            format!(
                "{}: {} port-allocation errors, {} dropped packets in the last {WINDOW} min — \
                 outbound connections from {} are failing",
                g.id,
                grouped(port_errors),
                grouped(drops),
                nat_services(input, cluster, g)
            ),
        )
        .key(g.id.clone())
        .next(
            "Port-allocation errors mean too many simultaneous flows to the same destination. \
             Reuse connections (HTTP keep-alive, pooled clients), add NAT IPs or gateways, move \
             AWS-service traffic to VPC endpoints. Open the calling service's logs to size the \
             impact.",
        )
        .remedies(&[Remedy::OpenLogs]);
        if port_errors > 0.0 {
            o = o.evidence(Evidence::at(
                input.now,
                format!(
                    "AWS/NATGateway ErrorPortAllocation {}",
                    grouped(port_errors)
                ),
            ));
        }
        if drops > 0.0 {
            let share = if packets > 0.0 {
                format!(
                    " ({:.3}% of {} packets in)",
                    drops / packets * 100.0,
                    grouped(packets)
                )
            } else {
                String::new()
            };
            o = o.evidence(Evidence::at(
                input.now,
                format!("PacketsDropCount {}{share}", grouped(drops)),
            ));
        }
        out.push(o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    fn fleet(port_errors: &[f64], drops: &[f64], packets: &[f64]) -> Facts {
        let mut f = facts();
        f.services = vec![service("payments", 10)];
        f.nat_gateways = vec![("prod".into(), nat(1))];
        f.series(cat::nat_port_allocation_errors(NAT_A), port_errors);
        f.series(cat::nat_packets_dropped(NAT_A), drops);
        f.series(cat::nat_packets_in(NAT_A), packets);
        f
    }

    #[test]
    fn any_port_allocation_error_is_critical_at_once() {
        let found = check(&fleet(&[0.0, 0.0, 350.0], &[0.0, 0.0, 900.0], &[2e6; 3]).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            "nat-0a1b2c3d4e5f60718: 350 port-allocation errors, 900 dropped packets in the last 3 \
             min — outbound connections from payments are failing"
        );
    }

    #[test]
    fn drops_for_three_minutes_warn() {
        let found = check(&fleet(&[0.0; 4], &[120.0; 4], &[500_000.0; 4]).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn a_healthy_busy_gateway_is_quiet() {
        // A few drops in a sea of packets: under AWS's 0.01 %.
        assert!(check(&fleet(&[0.0; 5], &[3.0; 5], &[4e6; 5]).input()).is_empty());
        // Drops in one minute only.
        assert!(
            check(&fleet(&[0.0; 5], &[0.0, 0.0, 0.0, 0.0, 80.0], &[1e5; 5]).input()).is_empty()
        );
        // Nothing at all.
        assert!(check(&fleet(&[0.0; 5], &[0.0; 5], &[1e5; 5]).input()).is_empty());
        // Errors long gone.
        assert!(
            check(&fleet(&[50.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[0.0; 6], &[1e5; 6]).input())
                .is_empty()
        );
    }

    #[test]
    fn bridge_mode_services_leave_through_their_hosts_subnet() {
        let mut f = fleet(&[0.0, 0.0, 12.0], &[0.0; 3], &[1e5; 3]);
        let host = instance(1, "m5.large");
        let mut bridge = service("legacy", 1);
        bridge.subnets.clear();
        let mut elsewhere = service("batch", 1);
        elsewhere.subnets.clear();
        f.services = vec![bridge, elsewhere];
        f.tasks = vec![on(task("legacy", 1, 600), &host), task("batch", 2, 600)];
        f.instances = vec![host];
        let found = check(&f.input());
        assert!(
            found[0]
                .message
                .ends_with("outbound connections from legacy are failing"),
            "{}",
            found[0].message
        );
    }
}
