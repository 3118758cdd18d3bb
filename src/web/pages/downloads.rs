//! Every page's table as CSV. The divergence rows are the API's own export (`format=csv` of
//! `GET /rounds/{round}/divergence`, the same columns and filters, streamed); the areas and
//! completion tables are written here from the same figures the pages show.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::Filters;
use crate::api::divergence::{aggregate_rows, analysis, csv_export};
use crate::api::rounds::completion_of;
use crate::api::text::csv_text;
use crate::domain::divergence::{AggregateBy, OVERALL, OptionsPatch};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

#[derive(Debug, Deserialize)]
pub struct Extra {
    ods: Option<String>,
    by: Option<String>,
}

fn csv_response(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> WebResult<String> {
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()).into())
}

/// The divergence rows after the page's filters (one organisation's with `ods`): a submitter
/// gets its own organisation's rows of a published round, as from the API.
pub async fn divergence(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
    extra: web::Query<Extra>,
) -> WebResult<HttpResponse> {
    let round = path.into_inner();
    let f = filters.into_inner().cleaned()?;
    let ods = extra.into_inner().ods;
    match &ods {
        Some(o) if !viewer.who.may_read_org(o) => {
            return Err(WebError::Forbidden(
                "You can download only your own organisation's rows.".into(),
            ));
        }
        None => viewer.require_national()?,
        _ => {}
    }
    let computed = analysis(
        &state,
        &viewer.who,
        &round,
        &f.analysis(),
        &OptionsPatch::default(),
    )
    .await?;
    f.check_pillar(&super::common::pillars(&computed))?;
    let mut q = f.rows(f.pillar.as_deref());
    q.ods = ods;
    Ok(csv_export(computed, &q, &viewer.who, &round))
}

/// The ICB or region table of the areas page.
pub async fn areas(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
    extra: web::Query<Extra>,
) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    let round = path.into_inner();
    let f = filters.into_inner().cleaned()?;
    let unit = match extra.into_inner().by.as_deref() {
        None | Some("icb") => AggregateBy::Icb,
        Some("region") => AggregateBy::Region,
        Some(_) => return Err(WebError::BadRequest("Compare ICBs or regions.".into())),
    };
    let computed = analysis(
        &state,
        &viewer.who,
        &round,
        &f.analysis(),
        &OptionsPatch::default(),
    )
    .await?;
    f.check_pillar(&super::common::pillars(&computed))?;
    let pillar = f.pillar.clone().unwrap_or_else(|| OVERALL.to_owned());
    let mut w = writer();
    let io = |e: csv::Error| WebError::from(AppError::Internal(e.to_string()));
    w.write_record([
        "round",
        "code",
        "name",
        "pillar",
        "n_members",
        "n_valid",
        "standardised_gap",
        "robust_z",
        "p",
        "q",
        "tier",
        "type_mix",
        "flags",
    ])
    .map_err(io)?;
    let fmt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for a in aggregate_rows(&computed, &viewer.who, unit)?
        .iter()
        .filter(|a| a.pillar == pillar)
    {
        let mix: Vec<String> = a
            .type_mix
            .iter()
            .map(|(t, n)| format!("{}:{n}", t.as_str()))
            .collect();
        let flags: Vec<&str> = a.flags.iter().map(|f| f.as_str()).collect();
        w.write_record([
            round.clone(),
            csv_text(&a.code),
            csv_text(a.name.as_deref().unwrap_or("")),
            a.pillar.clone(),
            a.n_members.to_string(),
            a.level.n_valid.to_string(),
            fmt(a.level.standardised_gap),
            fmt(a.level.robust_z),
            fmt(a.level.p),
            fmt(a.level.q),
            format!("{:?}", a.level.tier).to_lowercase(),
            mix.join(";"),
            flags.join(";"),
        ])
        .map_err(io)?;
    }
    let by = if unit == AggregateBy::Icb {
        "icbs"
    } else {
        "regions"
    };
    Ok(csv_response(&format!("{by}-{round}.csv"), finish(w)?))
}

/// Every in-scope organisation of the round with its return's status.
pub async fn completion(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    let round = path.into_inner();
    let (cache, key) = (state.frameworks.clone(), round.clone());
    let report = crate::api::with_conn(&state, move |c| completion_of(c, &cache, &key)).await?;
    let mut w = writer();
    let io = |e: csv::Error| WebError::from(AppError::Internal(e.to_string()));
    w.write_record([
        "round",
        "ods_code",
        "name",
        "org_type",
        "region_code",
        "icb_code",
        "status",
    ])
    .map_err(io)?;
    for e in &report.organisations {
        w.write_record([
            round.clone(),
            e.ods_code.clone(),
            csv_text(&e.name),
            e.org_type.clone(),
            e.region_code.clone().unwrap_or_default(),
            e.icb_code.clone().unwrap_or_default(),
            serde_json::to_value(e.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    Ok(csv_response(&format!("completion-{round}.csv"), finish(w)?))
}
