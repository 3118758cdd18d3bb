//! Scores stored at submission: by round (filters, JSON or CSV with one row per organisation) and
//! per organisation across rounds. Submitters see only their own organisations. Region and ICB
//! names stand beside their codes, pillar and domain titles beside their keys; figures within
//! 1e-9 of zero are written as 0.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Format;
use super::not_found;
use super::organisations::{RegionCode, parse_region_filter, parse_type_filter};
use super::reads::{self, Cursor, CursorQuery};
use super::rounds::{cached_round_framework, find_round};
use crate::api::problems::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use crate::auth::Principal;
use crate::db::frameworks::FrameworkCache;
use crate::db::organisations::{self, NamedOrganisation};
use crate::db::scores as store;
use crate::db::{DbConnection, rounds};
use crate::domain::figures::zero_noise;
use crate::domain::framework::Pillar;
use crate::domain::organisation::OrgType;
use crate::domain::scoring::{DomainScore, PillarScore, Scores};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(round_scores).service(organisation_scores);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScoreValue {
    pub score: Option<f64>,
    pub coverage: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DomainValue {
    pub domain: String,
    /// The domain's title in the round's framework.
    pub domain_title: String,
    pub score: Option<f64>,
    pub coverage: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PillarValue {
    pub pillar: String,
    /// The pillar's title in the round's framework.
    pub pillar_title: String,
    pub score: Option<f64>,
    pub coverage: f64,
    pub domains: Vec<DomainValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganisationScores {
    pub ods_code: String,
    pub name: String,
    pub org_type: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub icb_code: Option<String>,
    pub icb_name: Option<String>,
    pub overall: ScoreValue,
    pub pillars: Vec<PillarValue>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoundScores {
    pub round: String,
    pub framework: String,
    /// `staged` (levels 1–5) or `scored` (points).
    pub method: String,
    /// Pillar keys in framework order (the CSV columns).
    pub pillars: Vec<String>,
    /// The pillars' titles, in the same order.
    pub pillar_titles: Vec<String>,
    /// Organisations by ODS code (a page when `limit` is given).
    pub items: Vec<OrganisationScores>,
    /// The `cursor` of the next page when `limit` cut the list; null otherwise.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoresQuery {
    /// Only organisations of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<OrgType>)]
    pub org_type: Option<String>,
    /// Only organisations in this NHS England region.
    #[param(value_type = Option<RegionCode>)]
    pub region: Option<String>,
    /// Only organisations of this ICB (its ODS code).
    pub icb: Option<String>,
    /// Only this pillar; a key that is not a pillar of the round's framework is refused (422).
    pub pillar: Option<String>,
    /// `json` (default) or `csv`; any other value is a 400.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
}

/// The wire shape of one organisation's stored scores in one round: the pillars of `pillars`
/// (framework order) with their titles, domains in stored order, figures with f64 noise written
/// as 0.
fn group(scores: &Scores, org: &NamedOrganisation, pillars: &[&Pillar]) -> OrganisationScores {
    let o = &org.row;
    OrganisationScores {
        ods_code: o.ods_code.clone(),
        name: o.name.clone(),
        org_type: o.org_type.clone(),
        region_code: o.region_code.clone(),
        region_name: org.region_name.clone(),
        icb_code: o.icb_code.clone(),
        icb_name: org.icb_name.clone(),
        overall: ScoreValue::new(scores.score, scores.coverage),
        pillars: pillars
            .iter()
            .filter_map(|fp| {
                let p = scores.pillars.iter().find(|p| p.pillar == fp.key)?;
                Some(PillarValue::new(p, fp))
            })
            .collect(),
    }
}

impl ScoreValue {
    fn new(score: Option<f64>, coverage: f64) -> Self {
        ScoreValue {
            score: score.map(zero_noise),
            coverage: zero_noise(coverage),
        }
    }
}

impl PillarValue {
    /// A stored pillar with its titles from the framework's pillar `fp`.
    fn new(p: &PillarScore, fp: &Pillar) -> Self {
        let domain = |d: &DomainScore| DomainValue {
            domain: d.domain.clone(),
            domain_title: fp
                .domains
                .iter()
                .find(|x| x.key == d.domain)
                .map_or_else(|| d.domain.clone(), |x| x.title.clone()),
            score: d.score.map(zero_noise),
            coverage: zero_noise(d.coverage),
        };
        PillarValue {
            pillar: p.pillar.clone(),
            pillar_title: fp.title.clone(),
            score: p.score.map(zero_noise),
            coverage: zero_noise(p.coverage),
            domains: p.domains.iter().map(domain).collect(),
        }
    }
}

fn load_round_scores(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    who: &Principal,
    round: &str,
    q: &ScoresQuery,
) -> AppResult<RoundScores> {
    let round_row = find_round(conn, round)?;
    let framework = cached_round_framework(conn, cache, &round_row)?;
    let pillars: Vec<&Pillar> = framework
        .pillars
        .iter()
        .filter(|p| q.pillar.as_ref().is_none_or(|k| &p.key == k))
        .collect();
    if let Some(p) = &q.pillar
        && pillars.is_empty()
    {
        return Err(AppError::field(
            "pillar",
            format!("`{p}` is not a pillar of framework `{}`", framework.key),
        ));
    }
    let orgs: BTreeMap<String, NamedOrganisation> = organisations::all_named(conn)?
        .into_iter()
        .map(|o| (o.row.ods_code.clone(), o))
        .collect();
    let mut items = Vec::new();
    for (ods, scores) in store::submitted_scores_of_round(conn, round)? {
        let Some(named) = orgs.get(&ods) else {
            continue;
        };
        let org = &named.row;
        let keep = who.may_read_org(&ods)
            && q.org_type.as_ref().is_none_or(|t| &org.org_type == t)
            && q.region
                .as_ref()
                .is_none_or(|r| org.region_code.as_ref() == Some(r))
            && q.icb
                .as_ref()
                .is_none_or(|i| org.icb_code.as_ref() == Some(i));
        if keep {
            items.push(group(&scores, named, &pillars));
        }
    }
    Ok(RoundScores {
        round: round.to_owned(),
        framework: framework.key.clone(),
        method: if framework.is_staged() {
            "staged"
        } else {
            "scored"
        }
        .into(),
        pillars: pillars.iter().map(|p| p.key.clone()).collect(),
        pillar_titles: pillars.iter().map(|p| p.title.clone()).collect(),
        items,
        next_cursor: None,
    })
}

fn fmt_score(v: Option<f64>) -> String {
    v.map(|x| {
        format!("{:.4}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    })
    .unwrap_or_default()
}

fn to_csv(s: &RoundScores) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "ods_code",
        "name",
        "org_type",
        "region_code",
        "region_name",
        "icb_code",
        "icb_name",
        "overall",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(s.pillars.iter().map(|p| crate::api::text::csv_text(p)));
    w.write_record(&header).map_err(AppError::internal)?;
    for item in &s.items {
        let mut rec = vec![
            item.ods_code.clone(),
            item.name.clone(),
            item.org_type.clone(),
            item.region_code.clone().unwrap_or_default(),
            item.region_name.clone().unwrap_or_default(),
            item.icb_code.clone().unwrap_or_default(),
            item.icb_name.clone().unwrap_or_default(),
            fmt_score(item.overall.score),
        ];
        for p in &s.pillars {
            rec.push(fmt_score(
                item.pillars
                    .iter()
                    .find(|x| &x.pillar == p)
                    .and_then(|x| x.score),
            ));
        }
        w.write_record(&rec).map_err(AppError::internal)?;
    }
    String::from_utf8(w.into_inner().map_err(AppError::internal)?).map_err(AppError::internal)
}

/// Scores of the submitted returns of a round. `format=csv` gives one row per organisation with a
/// column per pillar. Every organisation unless `limit` asks for a page.
#[utoipa::path(operation_id = "getRoundScores", tag = "scores", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ScoresQuery, CursorQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The round's scores: JSON by default, or CSV (one row per organisation, a column per pillar) with `format=csv`",
        headers(("ETag" = String, description = "Changes when the stored scores or the register change")),
        content((RoundScores = "application/json"), (String = "text/csv"))),
    (status = 304, description = "The copy named in `If-None-Match` is current"),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 404, response = NotFound),
    (status = 422, response = Unprocessable),
))]
#[get("/rounds/{round}/scores")]
async fn round_scores(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<ScoresQuery>,
    page: web::Query<CursorQuery>,
) -> AppResult<HttpResponse> {
    let round = path.into_inner();
    let mut q = query.into_inner();
    q.org_type = parse_type_filter(q.org_type)?;
    q.region = parse_region_filter(q.region)?;
    let csv = super::wants_csv(q.format.as_deref())?;
    let limit = page.limit_or(None)?;
    let cursor = page.position()?;
    let cache = state.frameworks.clone();
    let (signature, asked) = (reads::signature(&req, &who), reads::if_none_match(&req));
    let permit = state.heavy.acquire(&who.subject).await?;
    let outcome = reads::with_read_conn(&state, move |c, stamp| {
        let _permit = permit;
        let tag = reads::tag(stamp, &signature);
        if reads::matches_any(&asked, &tag) {
            return Ok((None, tag));
        }
        let mut result = load_round_scores(c, &cache, &who, &round, &q)?;
        let len = result.items.len();
        let start = match &cursor {
            Some(c) => c.resume(len, |i, key| result.items[i].ods_code == key)?,
            None => 0,
        };
        let end = limit.map_or(len, |n| (start + n).min(len));
        let next_cursor = (end < len && end > start).then(|| {
            Cursor {
                index: end - 1,
                key: result.items[end - 1].ods_code.clone(),
            }
            .encode()
        });
        result.items.truncate(end);
        result.items.drain(..start);
        result.next_cursor = next_cursor;
        Ok((Some(result), tag))
    })
    .await?;
    let (result, tag) = match outcome {
        (None, tag) => return Ok(reads::not_modified_response(&tag)),
        (Some(result), tag) => (result, tag),
    };
    let mut out = HttpResponse::Ok();
    out.insert_header((header::ETAG, tag));
    if csv {
        let file = format!("attachment; filename=\"scores-{}.csv\"", result.round);
        Ok(out
            .content_type("text/csv; charset=utf-8")
            .insert_header(("content-disposition", file))
            .body(to_csv(&result)?))
    } else {
        if let Some(next) = &result.next_cursor {
            out.insert_header((header::LINK, reads::next_link(&req, next)));
        }
        Ok(out.json(result))
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoundEntry {
    pub round: String,
    pub title: String,
    pub framework: String,
    pub opens_at: DateTime<Utc>,
    pub overall: ScoreValue,
    pub pillars: Vec<PillarValue>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganisationHistory {
    pub ods_code: String,
    pub name: String,
    pub org_type: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub icb_code: Option<String>,
    pub icb_name: Option<String>,
    /// Rounds with a submitted return, oldest first.
    pub rounds: Vec<RoundEntry>,
}

/// One organisation's stored scores in every round it submitted, oldest first.
#[utoipa::path(operation_id = "getOrganisationScores", tag = "scores", params(("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The organisation's stored scores in each round it submitted", body = OrganisationHistory,
        headers(("ETag" = String, description = "Changes when the stored scores or the register change"))),
    (status = 304, description = "The copy named in `If-None-Match` is current"),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[get("/organisations/{ods}/scores")]
async fn organisation_scores(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let ods = path.into_inner();
    if !who.may_read_org(&ods) {
        return Err(AppError::Forbidden(format!(
            "this token does not act for `{ods}`"
        )));
    }
    let cache = state.frameworks.clone();
    let (signature, asked) = (reads::signature(&req, &who), reads::if_none_match(&req));
    let (history, tag) = reads::with_read_conn(&state, move |c, stamp| {
        let tag = reads::tag(stamp, &signature);
        if reads::matches_any(&asked, &tag) {
            return Ok((None, tag));
        }
        let history = organisation_history(c, &cache, &ods)?;
        Ok((Some(history), tag))
    })
    .await?;
    match history {
        None => Ok(reads::not_modified_response(&tag)),
        Some(h) => Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, tag))
            .json(h)),
    }
}

/// One organisation's stored scores in every round it submitted, oldest first, with pillar and
/// domain titles (the body of `GET /organisations/{ods}/scores`; the caller checks access).
pub fn organisation_history(
    c: &mut DbConnection,
    cache: &FrameworkCache,
    ods: &str,
) -> AppResult<OrganisationHistory> {
    let org = organisations::find_named(c, ods)?.ok_or_else(|| not_found("organisation", ods))?;
    let mut per_round = store::submitted_scores_of_org(c, ods)?;
    let mut entries = Vec::new();
    for round in rounds::list(c)? {
        let Some(scores) = per_round.remove(&round.key) else {
            continue;
        };
        let framework = cached_round_framework(c, cache, &round)?;
        let pillars: Vec<&Pillar> = framework.pillars.iter().collect();
        let g = group(&scores, &org, &pillars);
        entries.push(RoundEntry {
            round: round.key,
            title: round.title,
            framework: round.framework_key,
            opens_at: round.opens_at.and_utc(),
            overall: g.overall,
            pillars: g.pillars,
        });
    }
    Ok(OrganisationHistory {
        ods_code: org.row.ods_code,
        name: org.row.name,
        org_type: org.row.org_type,
        region_code: org.row.region_code,
        region_name: org.region_name,
        icb_code: org.row.icb_code,
        icb_name: org.icb_name,
        rounds: entries,
    })
}
