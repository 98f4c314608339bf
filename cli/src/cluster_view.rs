//! Lends the pg front door the replication agent's status and its rejoin,
//! for patina's system views (`patina.node`, `patina.members`,
//! `patina.sync_state`) and `CALL patina_rejoin()`.

use std::sync::Arc;
use std::time::SystemTime;

use patina_pg::server::{ClusterSnapshot, Database, MemberRow, NodeRow, SiteRow};
use patina_replication::agent::{AgentHandle, AgentStatus};
use patina_replication::core::MemberState;
use patina_store::SiteId;

pub fn install(db: &Database, agent: AgentHandle) {
    let status = agent.clone();
    db.set_cluster_view(Arc::new(move || {
        snapshot(&status.status(), SystemTime::now())
    }));
    db.set_rejoin(Arc::new(move || agent.rejoin().map_err(|e| e.to_string())));
}

/// The views' rows from the agent's status; lag in seconds runs to `now`,
/// the time the view is read.
fn snapshot(status: &AgentStatus, now: SystemTime) -> ClusterSnapshot {
    let members: Vec<MemberRow> = status
        .members
        .iter()
        .map(|member| MemberRow {
            site_id: member.id.site.to_string(),
            addr: member.id.addr.to_string(),
            state: state_name(member.state, member.left).to_owned(),
            incarnation: member.id.incarnation as i64,
            rtt_ms: member.rtt.map(|rtt| rtt.as_secs_f64() * 1000.0),
            last_seen: member.last_seen,
        })
        .collect();
    let down = status
        .members
        .iter()
        .filter(|m| m.state == MemberState::Down)
        .count();
    let mut sites: Vec<SiteRow> = Vec::new();
    let mut sites_seen: Vec<&SiteId> = status.have.sites.keys().collect();
    sites_seen.extend(
        status
            .heard
            .keys()
            .filter(|s| !status.have.sites.contains_key(s)),
    );
    for site in sites_seen {
        let progress = status.have.sites.get(site);
        let max_version = progress.map_or(0, |p| p.max_version);
        let gaps = progress.map_or(&[][..], |p| p.gaps.as_slice());
        let missing: u64 = gaps.iter().map(|gap| gap.end() - gap.start() + 1).sum();
        let heard = status
            .heard
            .get(site)
            .copied()
            .unwrap_or(0)
            .max(max_version);
        sites.push(SiteRow {
            site_id: site.to_string(),
            max_version: max_version as i64,
            gaps: gaps
                .iter()
                .map(|gap| {
                    if gap.start() == gap.end() {
                        gap.start().to_string()
                    } else {
                        format!("{}-{}", gap.start(), gap.end())
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
            missing: missing as i64,
            heard_version: heard as i64,
            lag_versions: (missing + heard - max_version) as i64,
            lag_seconds: status
                .lagging_since
                .get(site)
                .and_then(|since| now.duration_since(*since).ok())
                .map_or(0.0, |lag| lag.as_secs_f64()),
        });
    }
    let lag_versions = sites.iter().map(|s| s.lag_versions).sum();
    let lag_seconds = sites.iter().map(|s| s.lag_seconds).fold(0.0, f64::max);
    ClusterSnapshot {
        node: Some(NodeRow {
            site_id: status.id.site.to_string(),
            gossip_addr: status.id.addr.to_string(),
            incarnation: status.id.incarnation as i64,
            db_version: status.have.max_version(&status.id.site) as i64,
            members_up: (members.len() - down) as i64,
            members_down: down as i64,
            behind: status.behind,
            lag_versions,
            lag_seconds,
        }),
        members,
        sites,
    }
}

fn state_name(state: MemberState, left: bool) -> &'static str {
    match state {
        MemberState::Alive => "alive",
        MemberState::Suspect => "suspect",
        MemberState::Down if left => "left",
        MemberState::Down => "down",
    }
}
