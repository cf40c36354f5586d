//! The NAT gateways a cluster's subnets send their outbound traffic through: the `0.0.0.0/0`
//! route of each subnet's route table (its explicit association, else its VPC's main table),
//! then the gateways themselves for their public IP count. Three or four EC2 calls a cluster,
//! polled every few minutes (`poll::triage::EGRESS_EVERY`); routes rarely change.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::types::{Filter, RouteTable};
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;

use super::AwsSource;
use crate::model::NatGateway;
use crate::source::SourceError;

/// EC2 accepts at most this many values in one filter.
const FILTER_VALUES_MAX: usize = 200;
/// The default route: where traffic to the internet goes.
const DEFAULT_ROUTE: &str = "0.0.0.0/0";

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

fn clean(s: Option<&str>) -> String {
    crate::sanitize::clean(s.unwrap_or_default()).into_owned()
}

/// The NAT gateway a route table's default route goes through, if it goes through one.
fn default_nat(table: &RouteTable) -> Option<String> {
    table
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
        .and_then(|r| r.nat_gateway_id())
        .map(|id| clean(Some(id)))
}

impl AwsSource {
    pub(super) async fn describe_nat_gateways_for(
        &self,
        subnets: &[String],
    ) -> Result<Vec<NatGateway>, SourceError> {
        let mut nat_of: HashMap<String, Option<String>> = HashMap::new();
        for batch in subnets.chunks(FILTER_VALUES_MAX) {
            for table in self
                .route_tables(vec![filter("association.subnet-id", batch)])
                .await?
            {
                let nat = default_nat(&table);
                for a in table.associations() {
                    if let Some(s) = a.subnet_id().filter(|s| batch.iter().any(|b| b == s)) {
                        nat_of.insert(s.to_string(), nat.clone());
                    }
                }
            }
        }
        // Subnets without a table of their own follow their VPC's main route table.
        let rest: Vec<String> = subnets
            .iter()
            .filter(|s| !nat_of.contains_key(*s))
            .cloned()
            .collect();
        if !rest.is_empty() {
            let vpc_of = self.subnet_vpcs(&rest).await?;
            let mut vpcs: Vec<String> = vpc_of.values().cloned().collect();
            vpcs.sort();
            vpcs.dedup();
            for batch in vpcs.chunks(FILTER_VALUES_MAX) {
                let mains = self
                    .route_tables(vec![
                        filter("vpc-id", batch),
                        filter("association.main", &["true".to_string()]),
                    ])
                    .await?;
                for table in mains {
                    let nat = default_nat(&table);
                    for (subnet, vpc) in &vpc_of {
                        if table.vpc_id() == Some(vpc.as_str()) {
                            nat_of.insert(subnet.clone(), nat.clone());
                        }
                    }
                }
            }
        }
        let mut serves: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (subnet, nat) in nat_of {
            if let Some(nat) = nat {
                serves.entry(nat).or_default().push(clean(Some(&subnet)));
            }
        }
        if serves.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = serves.keys().cloned().collect();
        let mut gateways = self.nat_gateway_facts(&ids).await?;
        for g in &mut gateways {
            g.serves = serves.remove(&g.id).unwrap_or_default();
            g.serves.sort();
        }
        Ok(gateways)
    }

    async fn route_tables(&self, filters: Vec<Filter>) -> Result<Vec<RouteTable>, SourceError> {
        let pages = self
            .ec2
            .describe_route_tables()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        self.every_page("ec2:DescribeRouteTables", "route tables", pages, |p| {
            p.route_tables.unwrap_or_default()
        })
        .await
    }

    /// Subnet → VPC, for subnets that follow their VPC's main route table.
    async fn subnet_vpcs(
        &self,
        subnets: &[String],
    ) -> Result<HashMap<String, String>, SourceError> {
        let mut out = HashMap::new();
        for batch in subnets.chunks(FILTER_VALUES_MAX) {
            // A filter, not `SubnetIds`: a subnet deleted meanwhile is left out, not an error.
            let pages = self
                .ec2
                .describe_subnets()
                .filters(filter("subnet-id", batch))
                .into_paginator()
                .send();
            let found = self
                .every_page("ec2:DescribeSubnets", "subnets", pages, |p| {
                    p.subnets.unwrap_or_default()
                })
                .await?;
            for s in found {
                if let (Some(id), Some(vpc)) = (s.subnet_id(), s.vpc_id()) {
                    out.insert(id.to_string(), vpc.to_string());
                }
            }
        }
        Ok(out)
    }

    async fn nat_gateway_facts(&self, ids: &[String]) -> Result<Vec<NatGateway>, SourceError> {
        let mut out = Vec::new();
        for batch in ids.chunks(FILTER_VALUES_MAX) {
            let pages = self
                .ec2
                .describe_nat_gateways()
                .filter(filter("nat-gateway-id", batch))
                .into_paginator()
                .send();
            let found = self
                .every_page("ec2:DescribeNatGateways", "NAT gateways", pages, |p| {
                    p.nat_gateways.unwrap_or_default()
                })
                .await?;
            out.extend(found.iter().map(|g| NatGateway {
                id: clean(g.nat_gateway_id()),
                state: clean(g.state().map(|s| s.as_str())),
                vpc_id: clean(g.vpc_id()),
                subnet_id: clean(g.subnet_id()),
                addresses: g.nat_gateway_addresses().len() as u32,
                serves: Vec::new(),
            }));
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Every item of every page, one token from `op`'s budget per page.
    async fn every_page<O, T, E, R>(
        &self,
        op: &'static str,
        what: &str,
        mut pages: PaginationStream<Result<O, SdkError<E, R>>>,
        items: impl Fn(O) -> Vec<T>,
    ) -> Result<Vec<T>, SourceError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let mut all = Vec::new();
        loop {
            self.limiter.acquire(op).await;
            match pages.next().await {
                Some(page) => all.extend(items(page.map_err(|e| self.error(op, what, &e))?)),
                None => return Ok(all),
            }
        }
    }
}
