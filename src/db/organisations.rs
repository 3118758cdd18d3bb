//! Organisation register queries: the list with filters, one organisation with its lineage,
//! inserts and updates.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{organisation_predecessors, organisations};
use crate::domain::organisation::region_name;

type Backend = <DbConnection as Connection>::Backend;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationRow {
    pub ods_code: String,
    pub name: String,
    pub org_type: String,
    pub region_code: Option<String>,
    pub icb_code: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub successor_code: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl OrganisationRow {
    /// Open on `day`: opened on or before it (or no opening date recorded) and not closed before it.
    pub fn is_open_on(&self, day: NaiveDate) -> bool {
        self.opened_on.is_none_or(|o| o <= day) && self.closed_on.is_none_or(|c| c >= day)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisation_predecessors)]
pub struct PredecessorRow {
    pub successor_code: String,
    pub predecessor_code: String,
    pub merged_on: Option<NaiveDate>,
}

/// Filters of the organisation list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    pub org_type: Option<String>,
    pub region: Option<String>,
    pub icb: Option<String>,
    pub q: Option<String>,
    /// `Some(true)`: open today; `Some(false)`: closed; `None`: both.
    pub active: Option<bool>,
    pub today: Option<NaiveDate>,
}

fn filtered(f: &OrganisationFilter) -> organisations::BoxedQuery<'static, Backend> {
    use organisations::dsl as o;
    let mut query = o::organisations.into_boxed();
    if let Some(t) = &f.org_type {
        query = query.filter(o::org_type.eq(t.clone()));
    }
    if let Some(r) = &f.region {
        query = query.filter(o::region_code.eq(r.clone()));
    }
    if let Some(i) = &f.icb {
        query = query.filter(o::icb_code.eq(i.clone()));
    }
    if let Some(q) = &f.q {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        query = query.filter(
            lower(o::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(o::ods_code).like(pattern).escape('\\')),
        );
    }
    if let (Some(active), Some(today)) = (f.active, f.today) {
        query = if active {
            query.filter(o::closed_on.is_null().or(o::closed_on.ge(today)))
        } else {
            query.filter(o::closed_on.lt(today))
        };
    }
    query
}

/// One page of organisations (ordered by ODS code) and the total matching the filter.
pub fn list(
    conn: &mut DbConnection,
    filter: &OrganisationFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<OrganisationRow>, i64)> {
    let total = filtered(filter).count().get_result(conn)?;
    let items = filtered(filter)
        .order(organisations::ods_code.asc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .select(OrganisationRow::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// An organisation with the names beside its codes: its region's (one of the seven NHS England
/// regions of `domain::organisation`) and its ICB's (the ICB's own row of the register, an
/// organisation of type `icb`). A name is null when its code is null or not known.
#[derive(Debug, Clone)]
pub struct NamedOrganisation {
    pub row: OrganisationRow,
    pub region_name: Option<String>,
    pub icb_name: Option<String>,
}

impl NamedOrganisation {
    fn new((row, icb_name): (OrganisationRow, Option<String>)) -> Self {
        let region_name = row
            .region_code
            .as_deref()
            .and_then(region_name)
            .map(str::to_owned);
        Self {
            row,
            region_name,
            icb_name,
        }
    }
}

/// The register joined with itself for the ICB's name; one organisation or all of them.
fn load_named(conn: &mut DbConnection, ods: Option<&str>) -> QueryResult<Vec<NamedOrganisation>> {
    let icbs = diesel::alias!(organisations as icbs);
    let mut query = organisations::table
        .left_join(
            icbs.on(icbs
                .field(organisations::ods_code)
                .nullable()
                .eq(organisations::icb_code)),
        )
        .select((
            OrganisationRow::as_select(),
            icbs.field(organisations::name).nullable(),
        ))
        .order(organisations::ods_code.asc())
        .into_boxed::<Backend>();
    if let Some(ods) = ods {
        query = query.filter(organisations::ods_code.eq(ods.to_owned()));
    }
    let rows: Vec<(OrganisationRow, Option<String>)> = query.load(conn)?;
    Ok(rows.into_iter().map(NamedOrganisation::new).collect())
}

/// Every organisation with its region and ICB names, ordered by ODS code.
pub fn all_named(conn: &mut DbConnection) -> QueryResult<Vec<NamedOrganisation>> {
    load_named(conn, None)
}

/// One organisation with its region and ICB names.
pub fn find_named(conn: &mut DbConnection, ods: &str) -> QueryResult<Option<NamedOrganisation>> {
    Ok(load_named(conn, Some(ods))?.pop())
}

/// Every organisation (the divergence and completion views need the whole register).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<OrganisationRow>> {
    organisations::table
        .order(organisations::ods_code.asc())
        .select(OrganisationRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, ods: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(ods)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

pub fn exists(conn: &mut DbConnection, ods: &str) -> QueryResult<bool> {
    Ok(find(conn, ods)?.is_some())
}

/// The organisations `ods` absorbed, with their names.
pub fn predecessors(
    conn: &mut DbConnection,
    ods: &str,
) -> QueryResult<Vec<(PredecessorRow, String)>> {
    organisation_predecessors::table
        .inner_join(
            organisations::table
                .on(organisations::ods_code.eq(organisation_predecessors::predecessor_code)),
        )
        .filter(organisation_predecessors::successor_code.eq(ods))
        .order(organisation_predecessors::predecessor_code.asc())
        .select((PredecessorRow::as_select(), organisations::name))
        .load(conn)
}

/// Every merger edge of the register.
pub fn all_predecessors(conn: &mut DbConnection) -> QueryResult<Vec<PredecessorRow>> {
    organisation_predecessors::table
        .select(PredecessorRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, row: &OrganisationRow) -> QueryResult<()> {
    diesel::insert_into(organisations::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Inserts unless the code is already registered; returns whether a row was added.
pub fn insert_if_missing(conn: &mut DbConnection, row: &OrganisationRow) -> QueryResult<bool> {
    if exists(conn, &row.ods_code)? {
        return Ok(false);
    }
    insert(conn, row)?;
    Ok(true)
}

pub fn update(conn: &mut DbConnection, row: &OrganisationRow) -> QueryResult<()> {
    diesel::update(organisations::table.find(&row.ods_code))
        .set(row)
        .execute(conn)
        .map(drop)
}

/// Records that `predecessor` merged into `successor` (idempotent).
pub fn link_predecessor(conn: &mut DbConnection, edge: &PredecessorRow) -> QueryResult<bool> {
    let existing = organisation_predecessors::table
        .find((&edge.successor_code, &edge.predecessor_code))
        .select(PredecessorRow::as_select())
        .first(conn)
        .optional()?;
    if existing.is_some() {
        return Ok(false);
    }
    diesel::insert_into(organisation_predecessors::table)
        .values(edge)
        .execute(conn)?;
    Ok(true)
}

/// Removes lineage edges pointing at `predecessor` from any successor other than `keep`.
pub fn unlink_other_successors(
    conn: &mut DbConnection,
    predecessor: &str,
    keep: Option<&str>,
) -> QueryResult<usize> {
    use organisation_predecessors::dsl as p;
    let target = p::organisation_predecessors.filter(p::predecessor_code.eq(predecessor));
    match keep {
        Some(k) => diesel::delete(target.filter(p::successor_code.ne(k))).execute(conn),
        None => diesel::delete(target).execute(conn),
    }
}
