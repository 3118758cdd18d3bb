//! The analysts' dashboard. Every page reads the round's analysis through `api::divergence` (the
//! same stored result, role checks and disclosure rules as the JSON API) and shows each chart's
//! figures in a table too. Filters live in the URL, so a view can be shared by copying it.

mod areas;
mod common;
mod downloads;
mod heatmap;
mod home;
mod organisation;
mod overview;
mod returns;
mod targeting;

use actix_web::web;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::query;
use super::{WebError, WebResult};
use crate::api::divergence::{AnalysisQuery, DivergenceQuery};
use crate::domain::organisation::OrgType;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(home::home))
        .route("/", web::get().to(home::home))
        .route("/rounds/{round}", web::get().to(overview::page))
        .route("/rounds/{round}/heatmap", web::get().to(heatmap::page))
        .route("/rounds/{round}/targeting", web::get().to(targeting::page))
        .route("/rounds/{round}/areas", web::get().to(areas::page))
        .route(
            "/rounds/{round}/divergence.csv",
            web::get().to(downloads::divergence),
        )
        .route("/rounds/{round}/areas.csv", web::get().to(downloads::areas))
        .route(
            "/rounds/{round}/completion.csv",
            web::get().to(downloads::completion),
        )
        .route("/organisations/{ods}", web::get().to(organisation::page))
        .configure(returns::configure);
}

/// The filters every round page takes, from the URL.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    #[serde(rename = "type")]
    pub org_type: Option<String>,
    pub region: Option<String>,
    pub icb: Option<String>,
    pub pillar: Option<String>,
    /// `type` (default) or `peer_group:{key}`.
    pub reference: Option<String>,
}

impl Filters {
    /// Empty values (an unselected `<select>`) count as absent; values are checked.
    pub fn cleaned(self) -> WebResult<Filters> {
        let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let f = Filters {
            org_type: keep(self.org_type),
            region: keep(self.region),
            icb: keep(self.icb),
            pillar: keep(self.pillar),
            reference: keep(self.reference),
        };
        if let Some(t) = &f.org_type
            && OrgType::parse(t).is_none()
        {
            return Err(WebError::BadRequest(format!(
                "`{t}` is not an organisation type."
            )));
        }
        let code = |v: &Option<String>, what: &str| -> WebResult<()> {
            match v {
                Some(c)
                    if c.len() > 64
                        || !c
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b)) =>
                {
                    Err(WebError::BadRequest(format!(
                        "`{c}` is not a valid {what}."
                    )))
                }
                _ => Ok(()),
            }
        };
        if let Some(r) = &f.region
            && !crate::domain::organisation::REGIONS
                .iter()
                .any(|(c, _)| c == r)
        {
            return Err(WebError::BadRequest(format!(
                "`{r}` is not an NHS England region code (Y56, Y58 to Y63)."
            )));
        }
        code(&f.icb, "ICB code")?;
        code(&f.pillar, "pillar")?;
        code(&f.reference, "reference")?;
        Ok(f)
    }

    /// Refuses a pillar that is not one of the round's (or `overall`), as the API does.
    pub fn check_pillar(&self, pillars: &[(String, String)]) -> WebResult<()> {
        match &self.pillar {
            Some(p)
                if p != crate::domain::divergence::OVERALL
                    && !pillars.iter().any(|(k, _)| k == p) =>
            {
                Err(WebError::BadRequest(format!(
                    "`{p}` is not a pillar of this round's framework."
                )))
            }
            _ => Ok(()),
        }
    }

    pub fn analysis(&self) -> AnalysisQuery {
        AnalysisQuery {
            previous_round: None,
            reference: self.reference.clone(),
        }
    }

    /// The API's row query for these filters (`pillar` left to the caller).
    pub fn rows(&self, pillar: Option<&str>) -> DivergenceQuery {
        DivergenceQuery {
            pillar: pillar.map(str::to_owned),
            org_type: self.org_type.clone(),
            region: self.region.clone(),
            icb: self.icb.clone(),
            ods: None,
            format: None,
        }
    }

    /// These filters as a query string, with `extra` pairs added.
    pub fn query(&self, extra: &[(&str, Option<&str>)]) -> String {
        let mut pairs = vec![
            ("type", self.org_type.as_deref()),
            ("region", self.region.as_deref()),
            ("icb", self.icb.as_deref()),
            ("pillar", self.pillar.as_deref()),
            ("reference", self.reference.as_deref()),
        ];
        pairs.extend_from_slice(extra);
        query(&pairs)
    }
}

/// The page navigation of a round: overview, heatmap, targeting, areas, with the filters kept.
pub fn round_nav(round: &str, f: &Filters, current: &str) -> Markup {
    let items = [
        ("overview", "Overview", format!("/app/rounds/{round}")),
        ("heatmap", "Heatmap", format!("/app/rounds/{round}/heatmap")),
        (
            "targeting",
            "Where to target support",
            format!("/app/rounds/{round}/targeting"),
        ),
        (
            "areas",
            "ICBs and regions",
            format!("/app/rounds/{round}/areas"),
        ),
    ];
    html! {
        nav class="app-round-nav" aria-label="Round pages" {
            ul class="nhsuk-list app-inline-list" {
                @for (key, label, href) in &items {
                    li {
                        @if *key == current {
                            strong aria-current="page" { (label) }
                        } @else {
                            a href={ (href) (f.query(&[])) } { (label) }
                        }
                    }
                }
            }
        }
    }
}

/// The filter form of a round page (a GET form: the result is a shareable URL).
pub fn filter_form(
    action: &str,
    f: &Filters,
    pillars: &[(String, String)],
    regions: &[(String, String)],
    extra: Markup,
) -> Markup {
    html! {
        form class="app-filters" method="get" action=(action) {
            div class="app-filters__row" {
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="f-type" { "Organisation type" }
                    select class="nhsuk-select" id="f-type" name="type" {
                        option value="" { "All types" }
                        @for t in OrgType::ALL {
                            option value=(t.as_str()) selected[f.org_type.as_deref() == Some(t.as_str())] { (t.label()) }
                        }
                    }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="f-region" { "Region" }
                    select class="nhsuk-select" id="f-region" name="region" {
                        option value="" { "All regions" }
                        @for (code, name) in regions {
                            option value=(code) selected[f.region.as_deref() == Some(code.as_str())] { (name) }
                        }
                    }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="f-icb" { "ICB code" }
                    input class="nhsuk-input nhsuk-input--width-5" id="f-icb" name="icb" type="text" value=[f.icb.as_deref()] autocomplete="off" spellcheck="false";
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="f-pillar" { "Pillar" }
                    select class="nhsuk-select" id="f-pillar" name="pillar" {
                        option value="" { "All pillars" }
                        @for (key, title) in pillars {
                            option value=(key) selected[f.pillar.as_deref() == Some(key.as_str())] { (title) }
                        }
                        option value="overall" selected[f.pillar.as_deref() == Some("overall")] { "Overall" }
                    }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="f-reference" { "Peer group" }
                    input class="nhsuk-input nhsuk-input--width-10" id="f-reference" name="reference" type="text" value=[f.reference.as_deref()] placeholder="type" autocomplete="off" spellcheck="false" aria-describedby="f-reference-hint";
                    div class="nhsuk-hint" id="f-reference-hint" { "type, or peer_group:{key}" }
                }
                (extra)
                div class="nhsuk-form-group" {
                    button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Apply filters" }
                }
            }
        }
    }
}
