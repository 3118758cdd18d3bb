//! Divergence (method `divergence-v1`): where an organisation's level, progress or trend diverges
//! from like-for-like peers. The round view (JSON or CSV), one organisation's view, and ICB and
//! region aggregates. Analysts and admins see all; a submitter sees only its own organisations'
//! rows (with the reference statistics) and no aggregates; rounds not yet published are visible to
//! analysts and admins only.

mod csv_out;
pub mod load;
mod view;

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Format;
use super::organisations::{RegionCode, parse_region_filter, parse_type_filter};
use super::rounds::find_round;
use super::{not_found, with_heavy_conn};
use crate::api::problems::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::db::frameworks::FrameworkCache;
use crate::domain::divergence::disclosure::{self, Audience, DISCLOSURE_MIN_N};
use crate::domain::divergence::{
    AggregateBy, AggregateRow, Analysis, DivergenceRow, FamilyScheme, FamilySizes, FlagFilter,
    OVERALL, Options, OptionsPatch, aggregate, analyse,
};
use crate::domain::lifecycle::RoundStatus;
use crate::domain::organisation::OrgType;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use load::Loaded;
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
    /// `json` (default) or `csv`; any other value is a 400.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
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
    /// Rows after filters.
    pub total: usize,
    pub rows: Vec<DivergenceRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateReport {
    pub round: String,
    pub previous_round: Option<String>,
    /// `icb` or `region`.
    pub by: String,
    pub method: MethodBlock,
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

/// Loads and runs the engine for a round the caller may see.
fn run(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    who: &Principal,
    round: &str,
    q: &AnalysisQuery,
    o: &OptionsPatch,
) -> AppResult<(Loaded, Analysis)> {
    if !disclosure::may_set_min_ref_n(audience(who), o.min_ref_n) {
        return Err(AppError::Forbidden(format!(
            "min_ref_n below {DISCLOSURE_MIN_N} is for analysts and admins: smaller references \
             would give away other organisations' scores"
        )));
    }
    let focal = find_round(conn, round)?;
    if focal.status != RoundStatus::Published && !who.is_national_reader() {
        return Err(AppError::Forbidden(format!(
            "round `{round}` is not yet published; its divergence is visible to analysts and admins only"
        )));
    }
    let loaded = load::load(
        conn,
        cache,
        focal,
        q.previous_round.as_deref(),
        q.reference.as_deref(),
        o,
    )?;
    let analysis = analyse(&loaded.input);
    Ok((loaded, analysis))
}

/// Checks the row filters; returns whether CSV was asked for.
fn check_filters(q: &mut DivergenceQuery) -> AppResult<bool> {
    q.org_type = parse_type_filter(q.org_type.take())?;
    q.region = parse_region_filter(q.region.take())?;
    super::wants_csv(q.format.as_deref())
}

/// Every organisation × pillar of a round (plus `overall`), with level, change and trend blocks,
/// flags and reasons. Filters apply after the analysis, so q-values never depend on them.
#[utoipa::path(operation_id = "getRoundDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AnalysisQuery, DivergenceQuery, FlagQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "Every organisation × pillar row with its flags and reasons: JSON by default, or CSV with `format=csv`",
        content((DivergenceReport = "application/json"), (String = "text/csv"))),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence")]
async fn round_view(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    analysis_query: web::Query<AnalysisQuery>,
    query: web::Query<DivergenceQuery>,
    flag_query: web::Query<FlagQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<HttpResponse> {
    let round = path.into_inner();
    let a = analysis_query.into_inner();
    let mut q = query.into_inner();
    let csv = check_filters(&mut q)?;
    let flags = flag_query.flag_filter()?;
    let o = overrides.into_inner();
    let cache = state.frameworks.clone();
    let report = with_heavy_conn(&state, who.subject.clone(), move |c| {
        let (loaded, analysis) = run(c, &cache, &who, &round, &a, &o)?;
        if let Some(p) = &q.pillar
            && p != OVERALL
            && !loaded.chain.focal().1.pillars.iter().any(|x| &x.key == p)
        {
            return Err(AppError::field(
                "pillar",
                format!("`{p}` is not a pillar of this round's framework"),
            ));
        }
        let method = method_block(&analysis);
        let rows: Vec<DivergenceRow> = analysis
            .rows
            .into_iter()
            .filter(|r| keep(r, &q, &who, &loaded) && flags.keeps(&r.flags))
            .collect();
        Ok(DivergenceReport {
            round: round.clone(),
            previous_round: loaded.input.previous_round.clone(),
            rounds: loaded.input.rounds.clone(),
            reference: a.reference.clone().unwrap_or_else(|| "type".into()),
            method,
            total: rows.len(),
            rows,
        })
    })
    .await?;
    if csv {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"divergence-{}.csv\"", report.round),
            ))
            .body(csv_out::rows(&report)?))
    } else {
        Ok(HttpResponse::Ok().json(report))
    }
}

fn keep(r: &DivergenceRow, q: &DivergenceQuery, who: &Principal, loaded: &Loaded) -> bool {
    let ods = r.org_id.as_str();
    let org = loaded.register.get(ods);
    who.may_read_org(ods)
        && q.pillar.as_ref().is_none_or(|p| r.pillar.as_str() == p)
        && q.org_type.as_ref().is_none_or(|t| r.org_type.as_str() == t)
        && q.region
            .as_ref()
            .is_none_or(|x| org.and_then(|o| o.row.region_code.as_ref()) == Some(x))
        && q.icb
            .as_ref()
            .is_none_or(|x| org.and_then(|o| o.row.icb_code.as_ref()) == Some(x))
        && q.ods.as_ref().is_none_or(|x| ods == x)
}

/// One organisation: every pillar and metric, its lineage and its peers' distribution.
#[utoipa::path(operation_id = "getOrganisationDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$"), AnalysisQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "The organisation's divergence in every pillar and metric, with its peers' distribution", body = OrganisationDivergence),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence/{ods}")]
async fn organisation_view(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
    query: web::Query<AnalysisQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<web::Json<OrganisationDivergence>> {
    let (round, ods) = path.into_inner();
    if !who.may_read_org(&ods) {
        return Err(AppError::Forbidden(format!(
            "this token does not act for `{ods}`"
        )));
    }
    let q = query.into_inner();
    let o = overrides.into_inner();
    let cache = state.frameworks.clone();
    let out = with_heavy_conn(&state, who.subject.clone(), move |c| {
        let (loaded, analysis) = run(c, &cache, &who, &round, &q, &o)?;
        let org = loaded
            .register
            .get(&ods)
            .cloned()
            .ok_or_else(|| not_found("organisation", &ods))?;
        view::organisation(c, &loaded, analysis, org, audience(&who))
    })
    .await?;
    Ok(web::Json(out))
}

async fn aggregate_view(
    state: web::Data<AppState>,
    who: Principal,
    round: String,
    (a, mut q, f): (AnalysisQuery, AggregateQuery, FlagQuery),
    o: OptionsPatch,
    by: AggregateBy,
) -> AppResult<web::Json<AggregateReport>> {
    who.require_national_reader()?;
    q.region = parse_region_filter(q.region.take())?;
    let flags = f.flag_filter()?;
    let cache = state.frameworks.clone();
    let report = with_heavy_conn(&state, who.subject.clone(), move |c| {
        let (loaded, analysis) = run(c, &cache, &who, &round, &a, &o)?;
        let mut rows = aggregate(&loaded.input, &analysis, by);
        if let Some(p) = &q.pillar {
            rows.retain(|r| r.pillar.as_str() == p);
        }
        if let Some(region) = &q.region {
            rows.retain(|r| match by {
                AggregateBy::Region => r.code.as_str() == region,
                AggregateBy::Icb => {
                    loaded
                        .register
                        .get(r.code.as_str())
                        .and_then(|i| i.row.region_code.as_ref())
                        == Some(region)
                }
            });
        }
        rows.retain(|r| flags.keeps(&r.flags));
        Ok(AggregateReport {
            round,
            previous_round: loaded.input.previous_round.clone(),
            by: match by {
                AggregateBy::Icb => "icb",
                AggregateBy::Region => "region",
            }
            .into(),
            method: method_block(&analysis),
            rows,
        })
    })
    .await?;
    Ok(web::Json(report))
}

/// ICBs compared with each other on the indirectly standardised gap (mean of each member's gap to
/// its own type's median), so the mix of trust types does not decide (analysts and admins).
#[utoipa::path(operation_id = "getIcbDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AnalysisQuery, AggregateQuery, FlagQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "ICBs compared on the indirectly standardised gap", body = AggregateReport),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence/icbs")]
async fn icbs(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    analysis_query: web::Query<AnalysisQuery>,
    query: web::Query<AggregateQuery>,
    flag_query: web::Query<FlagQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<web::Json<AggregateReport>> {
    aggregate_view(
        state,
        who,
        path.into_inner(),
        (
            analysis_query.into_inner(),
            query.into_inner(),
            flag_query.into_inner(),
        ),
        overrides.into_inner(),
        AggregateBy::Icb,
    )
    .await
}

/// Regions compared with each other on the indirectly standardised gap (analysts and admins).
#[utoipa::path(operation_id = "getRegionDivergence", tag = "divergence", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), AnalysisQuery, AggregateQuery, FlagQuery, OptionsPatch), security(("bearer" = [])), responses(
    (status = 200, description = "Regions compared on the indirectly standardised gap", body = AggregateReport),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/divergence/regions")]
async fn regions(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    analysis_query: web::Query<AnalysisQuery>,
    query: web::Query<AggregateQuery>,
    flag_query: web::Query<FlagQuery>,
    overrides: web::Query<OptionsPatch>,
) -> AppResult<web::Json<AggregateReport>> {
    aggregate_view(
        state,
        who,
        path.into_inner(),
        (
            analysis_query.into_inner(),
            query.into_inner(),
            flag_query.into_inner(),
        ),
        overrides.into_inner(),
        AggregateBy::Region,
    )
    .await
}
