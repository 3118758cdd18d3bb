//! Divergence (method `divergence-v1`): where an organisation's level, progress or trend diverges
//! from like-for-like peers. The round view (JSON or CSV), one organisation's view, and ICB and
//! region aggregates. Analysts and admins see all; a submitter sees only its own organisations'
//! rows (with the reference statistics) and no aggregates; rounds not yet published are visible to
//! analysts and admins only.

mod csv_out;
mod export;
mod view;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::organisations::{RegionCode, parse_region_filter, parse_type_filter};
use super::reads::{self, CursorQuery, DEFAULT_LIMIT};
use super::rounds::find_round;
use super::{not_found, with_conn};
use crate::api::problems::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use crate::auth::Principal;
use crate::db::stamp;
use crate::domain::divergence::disclosure::{self, Audience, DISCLOSURE_MIN_N};
use crate::domain::divergence::{
    AggregateBy, AggregateRow, Analysis, DivergenceRow, FamilyScheme, FamilySizes, FlagFilter,
    OVERALL, Options, OptionsPatch, analyse,
};
use crate::domain::lifecycle::RoundStatus;
use crate::domain::organisation::OrgType;
use crate::error::{AppError, AppResult};
use crate::service::divergence::{Computed, Key, RowQuery, load};
use crate::state::AppState;
pub use view::{OrganisationDivergence, PillarDistribution};

pub fn configure(cfg: &mut ServiceConfig) {
    // The fixed paths first: `icbs` and `regions` are not ODS codes.
    cfg.service(icbs)
        .service(regions)
        .service(round_view)
        .service(organisation_view);
}

/// What the analysis is measured against (every divergence view).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalysisQuery {
    /// Round to measure change against (default: the latest earlier round on a comparable
    /// framework); an unknown or incomparable round is refused (422).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "2024-25")]
    pub previous_round: Option<String>,
    /// `type` (same organisation type nationally, the default) or `peer_group:{key}`; an unknown
    /// peer group is refused (422).
    #[param(
        pattern = "^(type|type_national|peer_group:[a-z0-9_-]{1,64})$",
        example = "type"
    )]
    pub reference: Option<String>,
}

/// Which organisation × pillar rows of the round to return, and how.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DivergenceQuery {
    /// Only this pillar (`overall` for the overall score); a key that is not a pillar of the
    /// round's framework is refused (422).
    pub pillar: Option<String>,
    /// Only organisations of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<OrgType>)]
    pub org_type: Option<String>,
    /// Only organisations in this NHS England region.
    #[param(value_type = Option<RegionCode>)]
    pub region: Option<String>,
    /// Only organisations of this ICB (its ODS code).
    pub icb: Option<String>,
    /// Only this organisation (its ODS code).
    pub ods: Option<String>,
    /// `json` (default: one page), `csv` or `ndjson` (every row after the filters, streamed; one
    /// JSON row object per line); any other value is a 400.
    #[param(value_type = Option<DivergenceFormat>)]
    pub format: Option<String>,
}

/// How the round view is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum DivergenceFormat {
    Json,
    Csv,
    Ndjson,
}

impl DivergenceFormat {
    fn parse(raw: Option<&str>) -> AppResult<Self> {
        match raw {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some("ndjson") => Ok(Self::Ndjson),
            Some(other) => Err(AppError::BadRequest(format!(
                "format `{other}` is not offered here: use `json`, `csv` or `ndjson`"
            ))),
        }
    }
}

/// Which ICB or region rows to return.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Only this pillar (`overall` for the overall score).
    pub pillar: Option<String>,
    /// Only this region (for ICBs: those in the region).
    #[param(value_type = Option<RegionCode>)]
    pub region: Option<String>,
}

/// Filters on the rows' flags (round, ICB and region views).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlagQuery {
    /// Only rows with at least one flag (descriptive GAP_WIDENING_* included).
    pub flagged_only: Option<bool>,
    /// Only rows with at least one flag from a hypothesis test: LEVEL_*, PROGRESS_*, TREND_*
    /// or PRIORITY_FALLING_BEHIND. Rows whose only flags are the descriptive GAP_WIDENING_*
    /// are left out.
    pub tested_only: Option<bool>,
    /// Only rows carrying at least one of these flag codes, comma-separated (e.g.
    /// `LEVEL_BELOW_PEERS,PRIORITY_FALLING_BEHIND`); an unknown code is refused (422). Spaces
    /// around a code and empty items are ignored.
    #[param(
        pattern = "^ *(?:(?:LEVEL_BELOW_PEERS|LEVEL_ABOVE_PEERS|PROGRESS_BELOW_PEERS|PROGRESS_ABOVE_PEERS|TREND_BELOW_PEERS|TREND_ABOVE_PEERS|GAP_WIDENING_BEHIND|GAP_WIDENING_AHEAD|PRIORITY_FALLING_BEHIND) *)?(?:, *(?:(?:LEVEL_BELOW_PEERS|LEVEL_ABOVE_PEERS|PROGRESS_BELOW_PEERS|PROGRESS_ABOVE_PEERS|TREND_BELOW_PEERS|TREND_ABOVE_PEERS|GAP_WIDENING_BEHIND|GAP_WIDENING_AHEAD|PRIORITY_FALLING_BEHIND) *)?)*$"
    )]
    pub flags: Option<String>,
}

impl FlagQuery {
    /// The flag filters (`flagged_only`, `tested_only`, `flags`), parsed.
    fn flag_filter(&self) -> AppResult<FlagFilter> {
        let any_of = match &self.flags {
            Some(raw) => FlagFilter::parse_codes(raw).map_err(|e| AppError::field("flags", e))?,
            None => Vec::new(),
        };
        Ok(FlagFilter {
            flagged_only: self.flagged_only.unwrap_or(false),
            tested_only: self.tested_only.unwrap_or(false),
            any_of,
        })
    }
}

/// The method block of a response: version, the options used (defaults with overrides) and their hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodBlock {
    /// `divergence-v2` (default) or `divergence-v1` (`method=`).
    pub version: String,
    /// How the tests form Benjamini–Hochberg families: `round` (v2: one family, of size
    /// `family_sizes.round`) or `metric_and_scope` (v1: one per metric, pillar and overall rows
    /// apart).
    pub families: FamilyScheme,
    pub options: Options,
    pub config_hash: String,
    pub family_sizes: FamilySizes,
    /// What a flag can and cannot see, in one sentence (v2: the detectable gap of each block).
    pub power: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DivergenceReport {
    pub round: String,
    pub previous_round: Option<String>,
    /// Rounds used (oldest first): the focal round and the comparable rounds before it.
    pub rounds: Vec<String>,
    /// `type` or `peer_group:{key}`.
    pub reference: String,
    pub method: MethodBlock,
    /// Rows after filters, on every page.
    pub total: usize,
    /// The page size used.
    pub limit: usize,
    /// The `cursor` of the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// This page's rows, in a stable order (organisation by ODS code, then pillars in framework
    /// order, then `overall`).
    pub rows: Vec<DivergenceRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateReport {
    pub round: String,
    pub previous_round: Option<String>,
    /// `icb` or `region`.
    pub by: String,
    pub method: MethodBlock,
    /// The `cursor` of the next page when `limit` cut the list; null otherwise.
    pub next_cursor: Option<String>,
    pub rows: Vec<AggregateRow>,
}

/// Who is reading, for the disclosure rules of `domain::divergence::disclosure`.
fn audience(who: &Principal) -> Audience {
    if who.is_national_reader() {
        Audience::National
    } else {
        Audience::Submitter
    }
}

fn method_block(a: &Analysis) -> MethodBlock {
    MethodBlock {
        version: a.version.to_owned(),
        families: a.options.method.families(),
        power: a.options.method.power_note().to_owned(),
        options: a.options.clone(),
        config_hash: a.config_hash.to_string(),
        family_sizes: a.family_sizes,
    }
}

/// The analysis a request asks for: its key in the cache (round, previous round and reference as
/// asked, option overrides in canonical form).
fn key_of(round: &str, q: &AnalysisQuery, o: &OptionsPatch) -> Key {
    Key {
        round: round.to_owned(),
        previous_round: q.previous_round.clone(),
        reference: q.reference.clone(),
        options: serde_json::to_string(o).unwrap_or_default(),
    }
}

/// The result of a divergence request: the analysis, or 304 when the client's copy is current.
enum Reply {
    Fresh(Arc<Computed>, String),
    NotModified(String),
}

/// The analysis of a round the caller may see, as of the current data stamp: checks the caller
/// and the round, answers `If-None-Match` from the stamp alone, reads a stored result when it is
/// current and otherwise computes it once (on the read replica when it has caught up), within
/// the caller's share of heavy work.
async fn analysis_for(
    state: &web::Data<AppState>,
    req: Option<&HttpRequest>,
    who: &Principal,
    round: &str,
    q: &AnalysisQuery,
    o: &OptionsPatch,
) -> AppResult<Reply> {
    if !disclosure::may_set_min_ref_n(audience(who), o.min_ref_n) {
        return Err(AppError::Forbidden(format!(
            "min_ref_n below {DISCLOSURE_MIN_N} is for analysts and admins: smaller references \
             would give away other organisations' scores"
        )));
    }
    let key = key_of(round, q, o);
    let (st, national, r, k) = (
        state.clone(),
        who.is_national_reader(),
        round.to_owned(),
        key.clone(),
    );
    let (now, stored) = with_conn(state, move |c| {
        let focal = find_round(c, &r)?;
        if focal.status != RoundStatus::Published && !national {
            return Err(AppError::Forbidden(format!(
                "round `{r}` is not yet published; its divergence is visible to analysts and admins only"
            )));
        }
        let now = stamp::current(c)?;
        Ok((now, st.divergence.current(&k, now)))
    })
    .await?;
    let tag_at = |stamp: i64| req.map_or_else(String::new, |r| reads::entity_tag(stamp, r, who));
    if let Some(r) = req {
        let tag = tag_at(now);
        if reads::not_modified(r, &tag) {
            return Ok(Reply::NotModified(tag));
        }
    }
    if let Some(c) = stored {
        let tag = tag_at(c.stamp);
        return Ok(Reply::Fresh(c, tag));
    }
    let permit = state.heavy.acquire(&who.subject).await?;
    let (st, r, q, o) = (state.clone(), round.to_owned(), q.clone(), o.clone());
    let computed = web::block(move || {
        let _permit = permit;
        st.divergence.get_or_compute(&key, now, || {
            let mut conn = reads::read_conn(&st.pool, st.read_pool.as_ref(), now)?;
            stamp::snapshot(&mut conn, |c| {
                let started = std::time::Instant::now();
                let at = stamp::current(c)?;
                let focal = find_round(c, &r)?;
                let loaded = load::load(
                    c,
                    &st.frameworks,
                    focal,
                    q.previous_round.as_deref(),
                    q.reference.as_deref(),
                    &o,
                )?;
                let loaded_at = started.elapsed();
                let analysis = analyse(&loaded.input);
                let analysed_at = started.elapsed();
                let computed = Computed::new(at, loaded, analysis);
                tracing::info!(
                    round = %r,
                    stamp = at,
                    rows = computed.analysis.rows.len(),
                    load_ms = loaded_at.as_millis() as u64,
                    analyse_ms = (analysed_at - loaded_at).as_millis() as u64,
                    index_ms = (started.elapsed() - analysed_at).as_millis() as u64,
                    "divergence analysis computed"
                );
                Ok::<_, AppError>(computed)
            })
        })
    })
    .await??;
    let tag = tag_at(computed.stamp);
    Ok(Reply::Fresh(computed, tag))
}

/// The analysis of a round for a web page: the same checks (role, published round, disclosure of
/// small references) and the same stored results as the API's views, without revalidation.
pub async fn analysis(
    state: &web::Data<AppState>,
    who: &Principal,
    round: &str,
    q: &AnalysisQuery,
    o: &OptionsPatch,
) -> AppResult<Arc<Computed>> {
    match analysis_for(state, None, who, round, q, o).await? {
        Reply::Fresh(c, _) => Ok(c),
        // Only a request with `If-None-Match` gets this, and none is passed here.
        Reply::NotModified(_) => Err(AppError::Internal("no analysis to show".into())),
    }
}

/// One organisation's divergence, as `GET /rounds/{round}/divergence/{ods}` gives it to `who`.
pub async fn organisation_report(
    state: &web::Data<AppState>,
    who: &Principal,
    round: &str,
    ods: &str,
    q: &AnalysisQuery,
) -> AppResult<OrganisationDivergence> {
    if !who.may_read_org(ods) {
        return Err(AppError::Forbidden(format!("you do not act for `{ods}`")));
    }
    let computed = analysis(state, who, round, q, &OptionsPatch::default()).await?;
    let (reader, ods) = (audience(who), ods.to_owned());
    with_conn(state, move |c| {
        let org = crate::db::organisations::find_named(c, &ods)?
            .ok_or_else(|| not_found("organisation", &ods))?;
        view::organisation(c, &computed.loaded, &computed.analysis, org, reader)
    })
    .await
}

/// The rows of a round's analysis `who` may see after the filters, in the listing's order.
pub fn visible_rows<'a>(
    computed: &'a Computed,
    q: &DivergenceQuery,
    who: &Principal,
) -> AppResult<Vec<&'a DivergenceRow>> {
    let flags = FlagFilter::default();
    let matcher = computed.index.matcher(&row_query(q, &flags, who));
    Ok(computed
        .analysis
        .rows
        .iter()
        .enumerate()
        .filter(|(i, _)| computed.index.keeps(&matcher, *i))
        .map(|(_, r)| r)
        .collect())
}

/// The ICB or region aggregate rows of an analysis (analysts and admins).
pub fn aggregate_rows<'a>(
    computed: &'a Computed,
    who: &Principal,
    by: AggregateBy,
) -> AppResult<&'a [AggregateRow]> {
    who.require_national_reader()?;
    Ok(computed.aggregate(by))
}

/// Every row `who` may see after the filters as the API's CSV export (`format=csv`), streamed.
pub fn csv_export(
    computed: Arc<Computed>,
    q: &DivergenceQuery,
    who: &Principal,
    round: &str,
) -> HttpResponse {
    let flags = FlagFilter::default();
    let matcher = computed.index.matcher(&row_query(q, &flags, who));
    let body = export::Rows::new(computed, 0, None, DivergenceFormat::Csv, matcher);
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"divergence-{round}.csv\""),
        ))
        .streaming(futures_util::stream::iter(body))
}

/// The rows a reader asked for and may see, as a query on the analysis's row index.
fn row_query<'a>(
    q: &'a DivergenceQuery,
    flags: &'a FlagFilter,
    who: &'a Principal,
) -> RowQuery<'a> {
    RowQuery {
        pillar: q.pillar.as_deref(),
        org_type: q.org_type.as_deref().and_then(OrgType::parse),
        region: q.region.as_deref(),
        icb: q.icb.as_deref(),
        ods: q.ods.as_deref(),
        orgs: (!who.is_national_reader()).then_some(who.orgs.as_slice()),
        flags: Some(flags),
    }
}

/// A row's key in the listing's order (for cursors).
fn row_key(r: &DivergenceRow) -> String {
    format!("{}/{}", r.org_id, r.pillar)
}

/// Every organisation × pillar of a round (plus `overall`), with level, change and trend blocks,
/// flags and reasons, a page at a time (`limit`, `cursor`), or every row as a CSV or NDJSON
/// export streamed as it is written. Filters apply after the analysis, so q-values never depend
/// on them. The analysis is computed once per data state and kept; `ETag` and `If-None-Match`
/// let a client revalidate without a body.
#[utoipa::path(operation_id = "getRoundDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AnalysisQuery, DivergenceQuery, FlagQuery, CursorQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "A page of organisation × pillar rows with their flags and reasons (JSON, by default), or every row after the filters as CSV (`format=csv`) or NDJSON (`format=ndjson`)",
        headers(("ETag" = String, description = "Changes when the data the analysis is computed from changes"), ("Link" = String, description = "The next page (`rel=\"next\"`), JSON only")),
        content((DivergenceReport = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
    (status = 304, description = "The copy named in `If-None-Match` is current"),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence")]
#[allow(clippy::too_many_arguments)]
async fn round_view(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<String>,
    analysis_query: web::Query<AnalysisQuery>,
    query: web::Query<DivergenceQuery>,
    flag_query: web::Query<FlagQuery>,
    page: web::Query<CursorQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<HttpResponse> {
    let round = path.into_inner();
    let a = analysis_query.into_inner();
    let mut q = query.into_inner();
    q.org_type = parse_type_filter(q.org_type.take())?;
    q.region = parse_region_filter(q.region.take())?;
    let format = DivergenceFormat::parse(q.format.as_deref())?;
    let flags = flag_query.flag_filter()?;
    let default_limit = (format == DivergenceFormat::Json).then_some(DEFAULT_LIMIT);
    let limit = page.limit_or(default_limit)?;
    let cursor = page.position()?;
    let o = overrides.into_inner();
    let (computed, tag) = match analysis_for(&state, Some(&req), &who, &round, &a, &o).await? {
        Reply::NotModified(tag) => return Ok(reads::not_modified_response(&tag)),
        Reply::Fresh(c, tag) => (c, tag),
    };
    if format == DivergenceFormat::Json
        && let Some(stored) = state.bodies.get(&tag)
    {
        return Ok(reads::respond_stored(&tag, "application/json", stored));
    }
    if let Some(p) = &q.pillar
        && p != OVERALL
        && !computed
            .loaded
            .chain
            .focal()
            .1
            .pillars
            .iter()
            .any(|x| &x.key == p)
    {
        return Err(AppError::field(
            "pillar",
            format!("`{p}` is not a pillar of this round's framework"),
        ));
    }
    let matcher = computed.index.matcher(&row_query(&q, &flags, &who));
    let rows = &computed.analysis.rows;
    if format != DivergenceFormat::Json {
        let start = match &cursor {
            Some(c) => c.resume(rows.len(), |i, key| row_key(&rows[i]) == key)?,
            None => 0,
        };
        let name = format!(
            "divergence-{round}.{}",
            if format == DivergenceFormat::Csv {
                "csv"
            } else {
                "ndjson"
            }
        );
        let body = export::Rows::new(Arc::clone(&computed), start, limit, format, matcher);
        return Ok(HttpResponse::Ok()
            .content_type(if format == DivergenceFormat::Csv {
                "text/csv; charset=utf-8"
            } else {
                "application/x-ndjson"
            })
            .insert_header((header::ETAG, tag))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ))
            .streaming(futures_util::stream::iter(body)));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let paged = reads::page(
        rows.len(),
        cursor.as_ref(),
        Some(limit),
        |i| computed.index.keeps(&matcher, i),
        |i| row_key(&rows[i]),
    )?;
    let next_cursor = paged.next_cursor;
    let report = DivergenceReport {
        round: round.clone(),
        previous_round: computed.loaded.input.previous_round.clone(),
        rounds: computed.loaded.input.rounds.clone(),
        reference: a.reference.clone().unwrap_or_else(|| "type".into()),
        method: method_block(&computed.analysis),
        total: paged.total,
        limit,
        next_cursor: next_cursor.clone(),
        rows: paged.items.into_iter().map(|i| rows[i].clone()).collect(),
    };
    let link = next_cursor
        .as_ref()
        .map(|next| reads::next_link(&req, next));
    reads::json_cached(&state.bodies, &tag, link, &report)
}

/// One organisation: every pillar and metric, its lineage and its peers' distribution.
#[utoipa::path(operation_id = "getOrganisationDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$"), AnalysisQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "The organisation's divergence in every pillar and metric, with its peers' distribution", body = OrganisationDivergence,
        headers(("ETag" = String, description = "Changes when the data the analysis is computed from changes"))),
    (status = 304, description = "The copy named in `If-None-Match` is current"),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence/{ods}")]
async fn organisation_view(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<(String, String)>,
    query: web::Query<AnalysisQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    if !who.may_read_org(&ods) {
        return Err(AppError::Forbidden(format!(
            "this token does not act for `{ods}`"
        )));
    }
    let q = query.into_inner();
    let o = overrides.into_inner();
    let (computed, tag) = match analysis_for(&state, Some(&req), &who, &round, &q, &o).await? {
        Reply::NotModified(tag) => return Ok(reads::not_modified_response(&tag)),
        Reply::Fresh(c, tag) => (c, tag),
    };
    let reader = audience(&who);
    let out = with_conn(&state, move |c| {
        let org = crate::db::organisations::find_named(c, &ods)?
            .ok_or_else(|| not_found("organisation", &ods))?;
        view::organisation(c, &computed.loaded, &computed.analysis, org, reader)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(out))
}

async fn aggregate_view(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    round: String,
    (a, mut q, f, page): (AnalysisQuery, AggregateQuery, FlagQuery, CursorQuery),
    o: OptionsPatch,
    by: AggregateBy,
) -> AppResult<HttpResponse> {
    who.require_national_reader()?;
    q.region = parse_region_filter(q.region.take())?;
    let flags = f.flag_filter()?;
    let limit = page.limit_or(None)?;
    let cursor = page.position()?;
    let (computed, tag) = match analysis_for(&state, Some(&req), &who, &round, &a, &o).await? {
        Reply::NotModified(tag) => return Ok(reads::not_modified_response(&tag)),
        Reply::Fresh(c, tag) => (c, tag),
    };
    if let Some(stored) = state.bodies.get(&tag) {
        return Ok(reads::respond_stored(&tag, "application/json", stored));
    }
    let all = computed.aggregate(by);
    let keeps = |r: &AggregateRow| {
        q.pillar.as_ref().is_none_or(|p| r.pillar.as_str() == p)
            && q.region.as_ref().is_none_or(|region| match by {
                AggregateBy::Region => r.code.as_str() == region,
                AggregateBy::Icb => computed.icb_regions.get(r.code.as_str()) == Some(region),
            })
            && flags.keeps(&r.flags)
    };
    let paged = reads::page(
        all.len(),
        cursor.as_ref(),
        limit,
        |i| keeps(&all[i]),
        |i| format!("{}/{}", all[i].pillar, all[i].code),
    )?;
    let next_cursor = paged.next_cursor;
    let rows = paged.items.into_iter().map(|i| all[i].clone()).collect();
    let report = AggregateReport {
        round,
        previous_round: computed.loaded.input.previous_round.clone(),
        by: match by {
            AggregateBy::Icb => "icb",
            AggregateBy::Region => "region",
        }
        .into(),
        method: method_block(&computed.analysis),
        next_cursor: next_cursor.clone(),
        rows,
    };
    let link = next_cursor
        .as_ref()
        .map(|next| reads::next_link(&req, next));
    reads::json_cached(&state.bodies, &tag, link, &report)
}

/// ICBs compared with each other on the indirectly standardised gap (mean of each member's gap to
/// its own type's median), so the mix of trust types does not decide (analysts and admins).
#[utoipa::path(operation_id = "getIcbDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AnalysisQuery, AggregateQuery, FlagQuery, CursorQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "ICBs compared on the indirectly standardised gap", body = AggregateReport,
        headers(("ETag" = String, description = "Changes when the data the analysis is computed from changes"))),
    (status = 304, description = "The copy named in `If-None-Match` is current"),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence/icbs")]
#[allow(clippy::too_many_arguments)]
async fn icbs(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<String>,
    analysis_query: web::Query<AnalysisQuery>,
    query: web::Query<AggregateQuery>,
    flag_query: web::Query<FlagQuery>,
    page: web::Query<CursorQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<HttpResponse> {
    aggregate_view(
        state,
        req,
        who,
        path.into_inner(),
        (
            analysis_query.into_inner(),
            query.into_inner(),
            flag_query.into_inner(),
            page.into_inner(),
        ),
        overrides.into_inner(),
        AggregateBy::Icb,
    )
    .await
}

/// Regions compared with each other on the indirectly standardised gap (analysts and admins).
#[utoipa::path(operation_id = "getRegionDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AnalysisQuery, AggregateQuery, FlagQuery, CursorQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "Regions compared on the indirectly standardised gap", body = AggregateReport,
        headers(("ETag" = String, description = "Changes when the data the analysis is computed from changes"))),
    (status = 304, description = "The copy named in `If-None-Match` is current"),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence/regions")]
#[allow(clippy::too_many_arguments)]
async fn regions(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<String>,
    analysis_query: web::Query<AnalysisQuery>,
    query: web::Query<AggregateQuery>,
    flag_query: web::Query<FlagQuery>,
    page: web::Query<CursorQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<HttpResponse> {
    aggregate_view(
        state,
        req,
        who,
        path.into_inner(),
        (
            analysis_query.into_inner(),
            query.into_inner(),
            flag_query.into_inner(),
            page.into_inner(),
        ),
        overrides.into_inner(),
        AggregateBy::Region,
    )
    .await
}
