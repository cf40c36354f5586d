//! nat-connection-saturation: a NAT gateway that serves the cluster's subnets holds nearly as
//! many connections as its public IPs allow (45,000 an IP, about 80 % of the ~55,000 AWS
//! allows an IP to one destination), or fails to establish 5 % of new connections with at least
//! 1,000 attempts a minute for 3 minutes. Critical when under 90 % are established for 3
//! minutes.

use super::util::{grouped, nat_services};
use crate::model::{
    Evidence, Observation, Point, Remedy, Severity, Subject, metric_catalog as cat,
};
use crate::triage::Input;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "nat-connection-saturation";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A NAT gateway the cluster's subnets route through is near its connection limits: too many active connections per IP, or new connections failing to establish.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api(
            "EC2 DescribeRouteTables and DescribeNatGateways: the NAT gateway of each service subnet's default route, and its IPs",
        ),
        Read::Metric(
            "AWS/NATGateway ActiveConnectionCount Maximum, ConnectionAttemptCount and ConnectionEstablishedCount Sum, per gateway",
        ),
    ],
    limits: &[
        limit(
            "active connections per IP ≥",
            Value::Number(ACTIVE_PER_IP, ""),
        ),
        limit("or established share <", Value::Share(LOW_SHARE)),
        limit("(critical <", Value::Share(CRITICAL_SHARE)),
        limit("with attempts a minute ≥", Value::Number(MIN_ATTEMPTS, "")),
        limit("for", Value::Minutes(WINDOW)),
    ],
};

/// Minutes the established share must stay low.
const WINDOW: i64 = 3;
/// Fewer attempts a minute than this say nothing about the gateway (our default).
const MIN_ATTEMPTS: f64 = 1_000.0;
const LOW_SHARE: f64 = 0.95;
const CRITICAL_SHARE: f64 = 0.9;
/// Active connections an IP may hold before the gateway counts as crowded (our default).
const ACTIVE_PER_IP: f64 = 45_000.0;

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &(cluster, g) in &input.nat_gateways {
        let active = input.latest(&cat::nat_active_connections(&g.id));
        let ips = g.addresses.max(1);
        let limit = ACTIVE_PER_IP * f64::from(ips);
        let crowded = active.is_some_and(|a| a >= limit);
        let minutes = minutes(input, &g.id);
        let enough = minutes.len() as i64 >= WINDOW - 1;
        let low = |share: f64| {
            enough
                && minutes
                    .iter()
                    .all(|(a, e)| *a >= MIN_ATTEMPTS && e / a < share)
        };
        if !crowded && !low(LOW_SHARE) {
            continue;
        }
        let severity = if low(CRITICAL_SHARE) {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let attempts: f64 = minutes.iter().map(|(a, _)| a).sum();
        let established: f64 = minutes.iter().map(|(_, e)| e).sum();
        let failed = if attempts > 0.0 {
            ((1.0 - established / attempts) * 100.0).max(0.0)
        } else {
            0.0
        };
        let active_text = active.map_or("unknown".to_string(), grouped);
        let mut o = Observation::new(
            ID,
            severity,
            Subject::Cluster {
                cluster: cluster.to_string(),
            },
            format!(
                "{}: {active_text} active connections, {failed:.0}% of new connections not \
                 established in the last {WINDOW} min — egress for {}",
                g.id,
                nat_services(input, cluster, g)
            ),
        )
        .key(g.id.clone())
        .next(
            "Reuse connections in the app (HTTP keep-alive, pooled clients). Give each AZ its own \
             NAT gateway for its private subnets, or add NAT IPs. Move AWS-service traffic (S3, \
             DynamoDB, ECR) to VPC endpoints. Open the calling service's logs for external-call \
             timeouts.",
        )
        .remedies(&[Remedy::OpenLogs]);
        if crowded {
            o = o.evidence(Evidence::at(
                input.now,
                format!(
                    "AWS/NATGateway ActiveConnectionCount {active_text} ≥ {} ({ips} NAT IP × \
                     45,000)",
                    grouped(limit)
                ),
            ));
        }
        if attempts > 0.0 {
            o = o.evidence(Evidence::at(
                input.now,
                format!(
                    "ConnectionEstablishedCount / ConnectionAttemptCount {} / {} over {WINDOW} min",
                    grouped(established),
                    grouped(attempts)
                ),
            ));
        }
        out.push(o);
    }
    out
}

/// (attempts, established) of each of the last minutes that has both.
fn minutes(input: &Input, nat: &str) -> Vec<(f64, f64)> {
    let established: Vec<Point> = input.window(&cat::nat_connections_established(nat), WINDOW);
    input
        .window(&cat::nat_connection_attempts(nat), WINDOW)
        .iter()
        .filter_map(|a| {
            let e = established.iter().find(|e| e.at == a.at)?;
            Some((a.value, e.value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    /// `web` in [`SUBNET_A`] behind [`NAT_A`] with `ips` addresses.
    fn fleet(ips: u32, active: &[f64], attempts: &[f64], established: &[f64]) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", 4), service("worker", 2)];
        f.services[1].subnets = vec!["subnet-elsewhere".into()];
        f.nat_gateways = vec![("prod".into(), nat(ips))];
        f.series(cat::nat_active_connections(NAT_A), active);
        f.series(cat::nat_connection_attempts(NAT_A), attempts);
        f.series(cat::nat_connections_established(NAT_A), established);
        f
    }

    #[test]
    fn crowded_gateway_fires_at_once_naming_the_services_behind_it() {
        let f = fleet(
            1,
            &[11_000.0, 12_000.0, 54_000.0],
            &[6_000.0, 6_000.0, 40_000.0],
            &[6_000.0, 6_000.0, 31_200.0],
        );
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].key, NAT_A);
        assert_eq!(
            found[0].message,
            "nat-0a1b2c3d4e5f60718: 54,000 active connections, 17% of new connections not \
             established in the last 3 min — egress for web"
        );
    }

    #[test]
    fn failing_connections_for_three_minutes_fire_and_escalate_under_ninety_percent() {
        let quiet = [10_000.0; 4];
        let warn = check(
            &fleet(
                1,
                &quiet,
                &[5_000.0; 4],
                &[4_650.0, 4_650.0, 4_650.0, 4_650.0],
            )
            .input(),
        );
        assert_eq!(warn.len(), 1);
        assert_eq!(warn[0].severity, Severity::Warning);
        let crit = check(&fleet(1, &quiet, &[5_000.0; 4], &[4_000.0; 4]).input());
        assert_eq!(crit[0].severity, Severity::Critical);
    }

    #[test]
    fn busy_but_healthy_gateways_are_quiet() {
        // 40k connections on two IPs (limit 90k), every new connection established.
        assert!(
            check(&fleet(2, &[40_000.0; 5], &[30_000.0; 5], &[29_990.0; 5]).input()).is_empty()
        );
        // A low share on a trickle of attempts says nothing.
        assert!(check(&fleet(1, &[200.0; 5], &[50.0; 5], &[30.0; 5]).input()).is_empty());
        // One bad minute is not three.
        assert!(
            check(
                &fleet(
                    1,
                    &[9_000.0; 4],
                    &[5_000.0; 4],
                    &[5_000.0, 5_000.0, 5_000.0, 4_000.0]
                )
                .input()
            )
            .is_empty()
        );
        // 46k connections is crowded for one IP, not for two.
        assert!(check(&fleet(2, &[46_000.0; 3], &[1_000.0; 3], &[1_000.0; 3]).input()).is_empty());
        assert_eq!(
            check(&fleet(1, &[46_000.0; 3], &[1_000.0; 3], &[1_000.0; 3]).input()).len(),
            1
        );
    }

    #[test]
    fn no_gateway_known_no_finding() {
        let mut f = fleet(1, &[54_000.0; 3], &[40_000.0; 3], &[20_000.0; 3]);
        f.nat_gateways.clear();
        assert!(check(&f.input()).is_empty());
    }
}
