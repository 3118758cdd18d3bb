//! The append-only audit trail: inserts and filtered reads, nothing that edits or deletes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::audit_events;

type Backend = <DbConnection as Connection>::Backend;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_key: String,
    pub summary: String,
    pub request_id: Option<String>,
    pub client_id: Option<String>,
}

impl AuditRow {
    /// The stored summary document; one that does not parse is an error, never `null`.
    pub fn summary_json(&self) -> QueryResult<serde_json::Value> {
        super::parse_stored_json(&self.summary, "audit_events.summary")
    }
}

/// Who did something, as the audit trail records it: the token subject, the API client the token
/// was issued to (when known), and the id of the request that did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The service itself (seeding, start-up loads): no client, no request.
    pub fn system(name: &str) -> Self {
        Self {
            subject: name.to_owned(),
            client_id: None,
            request_id: None,
        }
    }
}

/// A new event. `summary` is a JSON document (what changed: before/after or the fields set).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_key: String,
    pub summary: String,
    pub request_id: Option<String>,
    pub client_id: Option<String>,
}

impl NewAuditEvent {
    pub fn new(
        actor: &Actor,
        action: &str,
        entity_type: &str,
        entity_key: &str,
        summary: serde_json::Value,
    ) -> Self {
        Self {
            occurred_at: super::now(),
            actor: actor.subject.clone(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_key: entity_key.to_owned(),
            summary: summary.to_string(),
            request_id: actor.request_id.clone(),
            client_id: actor.client_id.clone(),
        }
    }
}

pub fn record(conn: &mut DbConnection, event: &NewAuditEvent) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .map(drop)
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_key: Option<String>,
    pub actor: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

fn filtered(f: &AuditFilter) -> audit_events::BoxedQuery<'static, Backend> {
    use audit_events::dsl as a;
    let mut q = a::audit_events.into_boxed();
    if let Some(v) = &f.entity_type {
        q = q.filter(a::entity_type.eq(v.clone()));
    }
    if let Some(v) = &f.entity_key {
        q = q.filter(a::entity_key.eq(v.clone()));
    }
    if let Some(v) = &f.actor {
        q = q.filter(a::actor.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(a::occurred_at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(a::occurred_at.lt(v));
    }
    q
}

/// Events matching the filter, oldest first, one page, with the total.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<AuditRow>, i64)> {
    let total = filtered(filter).count().get_result(conn)?;
    let items = filtered(filter)
        .order(audit_events::id.asc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// The assessment entity keys (`round/ODS`) that were ever re-opened (few: a re-opening needs an
/// admin and a reason).
pub fn reopened(conn: &mut DbConnection) -> QueryResult<std::collections::HashSet<String>> {
    use super::schema::audit_events;
    let found: Vec<String> = audit_events::table
        .filter(audit_events::entity_type.eq("assessment"))
        .filter(audit_events::action.eq("reopen"))
        .select(audit_events::entity_key)
        .distinct()
        .load(conn)?;
    Ok(found.into_iter().collect())
}
