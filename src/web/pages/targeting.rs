//! Where to target support (`/app/rounds/{round}/targeting`), per pillar and organisation type:
//! a scatter of level gap (x) against change excess over peers' change (y), with the peers'
//! middle 50 % shaded and the quadrant "behind and falling further behind" named; and a
//! caterpillar of the level's robust z with the limits a point must pass to be flagged (the 95 %
//! and 99.8 % tiers and the false discovery rate limit), so a reader sees why a point is flagged.

use actix_web::{HttpResponse, web};
use maud::{PreEscaped, html};

use super::common::{flag_codes, level_direction, pillars, regions, tier_name};
use super::{Filters, filter_form, round_nav};
use crate::api::divergence::{analysis, visible_rows};
use crate::domain::divergence::{DivergenceRow, FamilyScheme, OVERALL, OptionsPatch, critical_z};
use crate::domain::organisation::OrgType;
use crate::error::AppError;
use crate::service::divergence::Computed;
use crate::state::AppState;
use crate::web::charts::{Point, caterpillar, targeting_scatter};
use crate::web::layout::{Page, crumb, num, raw, signed};
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    let round = path.into_inner();
    let mut f = filters.into_inner().cleaned()?;
    // One pillar and one type at a time: peers are like-for-like.
    let pillar = f.pillar.clone().unwrap_or_else(|| OVERALL.to_owned());
    let org_type = f
        .org_type
        .clone()
        .unwrap_or_else(|| OrgType::Acute.as_str().to_owned());
    f.pillar = Some(pillar.clone());
    f.org_type = Some(org_type.clone());
    let computed = analysis(
        &state,
        &viewer.who,
        &round,
        &f.analysis(),
        &OptionsPatch::default(),
    )
    .await?;
    let pillar_list = pillars(&computed);
    let pillar_title = if pillar == OVERALL {
        "Overall".to_owned()
    } else {
        pillar_list
            .iter()
            .find(|(k, _)| *k == pillar)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                WebError::BadRequest(format!("`{pillar}` is not a pillar of this round."))
            })?
    };
    let rows = visible_rows(&computed, &f.rows(Some(&pillar)), &viewer.who)?;
    let label = |r: &DivergenceRow| {
        format!(
            "{} ({})",
            r.org_name.as_deref().unwrap_or(&r.org_id),
            r.org_id
        )
    };

    // The scatter: organisations with both a level gap and a change excess.
    let both: Vec<&&DivergenceRow> = rows
        .iter()
        .filter(|r| r.level.gap.is_some() && r.change.as_ref().and_then(|c| c.excess).is_some())
        .collect();
    let points: Vec<Point> = both
        .iter()
        .map(|r| Point {
            label: format!(
                "{}: gap {}, change excess {}",
                label(r),
                signed(r.level.gap),
                signed(r.change.as_ref().and_then(|c| c.excess))
            ),
            x: r.level.gap.unwrap_or(0.0),
            y: r.change.as_ref().and_then(|c| c.excess).unwrap_or(0.0),
            direction: if r
                .flags
                .iter()
                .any(|f| f.as_str() == "PRIORITY_FALLING_BEHIND")
            {
                -1
            } else {
                level_direction(r)
            },
        })
        .collect();
    // The peers' middle 50 %, as gaps from their median: drawn when every point was compared
    // with the same reference (one type nationally, or one peer group).
    let same = |key: fn(&DivergenceRow) -> Option<String>| {
        let first = both.first().and_then(|r| key(r));
        first.is_some() && both.iter().all(|r| key(r) == first)
    };
    let x_band = if same(|r| Some(r.reference.key.to_string())) {
        both.first().and_then(|r| {
            let r = &r.reference;
            Some((r.q1? - r.median?, r.q3? - r.median?))
        })
    } else {
        None
    };
    let y_band = if same(|r| r.change.as_ref().map(|c| c.reference.key.to_string())) {
        both.first().and_then(|r| {
            let r = &r.change.as_ref()?.reference;
            Some((r.q1? - r.median?, r.q3? - r.median?))
        })
    } else {
        None
    };
    let scatter_label = format!(
        "{pillar_title}, {}: level gap against change excess for {} organisations",
        org_type.replace('_', " "),
        points.len()
    );
    let scatter = targeting_scatter("targeting-scatter", &scatter_label, &points, x_band, y_band)
        .map_err(AppError::Internal)?;

    // The caterpillar: every tested level, sorted by z, with the limits.
    let mut tested: Vec<&&DivergenceRow> =
        rows.iter().filter(|r| r.level.robust_z.is_some()).collect();
    tested.sort_by(|a, b| {
        a.level
            .robust_z
            .unwrap_or(0.0)
            .total_cmp(&b.level.robust_z.unwrap_or(0.0))
    });
    let cat_points: Vec<Point> = tested
        .iter()
        .enumerate()
        .map(|(i, r)| Point {
            label: format!(
                "{}: robust z {}, {} tier, q {}",
                label(r),
                num(r.level.robust_z),
                tier_name(r.level.tier),
                r.level.q.map_or_else(|| "–".into(), |q| format!("{q:.3}"))
            ),
            x: (i + 1) as f64,
            y: r.level.robust_z.unwrap_or(0.0),
            direction: level_direction(r),
        })
        .collect();
    let limits = limits_of(&computed, &tested, pillar == OVERALL);
    let limit_refs: Vec<(f64, &str)> = limits.iter().map(|(z, n)| (*z, n.as_str())).collect();
    let cat = caterpillar(
        "caterpillar",
        &format!(
            "Robust z of the level, {pillar_title}, {}",
            org_type.replace('_', " ")
        ),
        &cat_points,
        &limit_refs,
    )
    .map_err(AppError::Internal)?;

    let opts = &computed.analysis.options;
    let base = format!("/app/rounds/{round}/targeting");
    let title = format!("Where to target support: {round}");
    let page = Page {
        title: &title,
        viewer: Some(&viewer),
        crumbs: vec![
            crumb("Home", "/app"),
            crumb(round.clone(), format!("/app/rounds/{round}")),
        ],
        body_class: "",
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { (round) " · " (pillar_title) " · " (org_type.replace('_', " ")) }
        h1 { "Where to target support" }
        (round_nav(&round, &f, "targeting"))
        (filter_form(&base, &f, &pillar_list, &regions(), html! {}))
        h2 class="nhsuk-heading-m" { "Level gap against progress" }
        p {
            "Each point is an organisation: how far its score is from its peers' median (across) "
            "and how much more or less it improved since the previous round than its peers did "
            "(up and down). The shaded box is the peers' middle 50 % on both. Points in the "
            "lower left are " strong { "behind and falling further behind" } "; red points are "
            "flagged below peers, blue above."
        }
        figure class="app-figure" {
            (PreEscaped(scatter))
            figcaption class="nhsuk-body-s" { (scatter_label) ". The table below has every point." }
        }
        h2 class="nhsuk-heading-m" { "Why a point is flagged" }
        p {
            "Organisations ordered by the robust z of their level. A point beyond the "
            "horizontal lines passes that test: the 95 % (alert) and 99.8 % (alarm) tiers, and the false "
            "discovery rate limit of the round (" (opts.alpha_fdr) "), which accounts for testing "
            "every organisation at once. A flag also needs a gap of at least "
            (opts.delta_level()) " points."
        }
        figure class="app-figure" {
            (PreEscaped(cat))
            figcaption class="nhsuk-body-s" {
                "Limits: "
                @for (i, (z, name)) in limits.iter().enumerate() {
                    @if i > 0 { "; " }
                    (name) " ±" (format!("{z:.2}"))
                }
                @if limits.is_empty() {
                    "none drawn: there are too few peers to test, or the organisations were "
                    "compared with references of different sizes, whose limits differ"
                }
                "."
            }
        }
        h2 class="nhsuk-heading-m" { "Every organisation in the charts" }
        p { a data-download="targeting" href={ "/app/rounds/" (round) "/divergence.csv" (f.query(&[])) } { "Download these rows as CSV" } }
        div class="app-table-scroll" tabindex="0" role="region" aria-label="Targeting table (scrolls sideways)" {
            table class="nhsuk-table app-table-compact" id="targeting-table" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Level gap, change excess and flags" }
                thead {
                    tr {
                        th scope="col" { "Organisation" }
                        th scope="col" class="app-numeric" { "Score" }
                        th scope="col" class="app-numeric" { "Level gap" }
                        th scope="col" class="app-numeric" { "Robust z" }
                        th scope="col" class="app-numeric" { "Change excess" }
                        th scope="col" { "Flags" }
                    }
                }
                tbody {
                    @for r in &tested {
                        tr data-ods=(r.org_id) data-gap=(raw(r.level.gap)) data-excess=(raw(r.change.as_ref().and_then(|c| c.excess)))
                            data-z=(raw(r.level.robust_z)) data-flags=(flag_codes(r).join(",")) {
                            th scope="row" { a href={ "/app/organisations/" (r.org_id) "?round=" (round) } { (label(r)) } }
                            td class="app-numeric" { (num(r.level.score)) }
                            td class="app-numeric" { (signed(r.level.gap)) }
                            td class="app-numeric" { (num(r.level.robust_z)) }
                            td class="app-numeric" { (signed(r.change.as_ref().and_then(|c| c.excess))) }
                            td { (flag_codes(r).join(", ")) }
                        }
                    }
                }
            }
        }
    }))
}

/// The |z| limits of the rows' level tests: the two tiers, and the false discovery rate limit
/// (the largest p of the family that passed BH, as a z), for the reference size of these rows.
fn limits_of(c: &Computed, rows: &[&&DivergenceRow], overall: bool) -> Vec<(f64, String)> {
    let Some(n) = rows.first().map(|r| r.reference.n) else {
        return Vec::new();
    };
    if rows.iter().any(|r| r.reference.n != n) {
        // Peer groups of different sizes have different limits; none is drawn.
        return Vec::new();
    }
    let opts = &c.analysis.options;
    let alpha = opts.alpha_fdr;
    let passed = |p: Option<f64>, q: Option<f64>| match (p, q) {
        (Some(p), Some(q)) if q <= alpha => Some(p),
        _ => None,
    };
    let one_family = c.analysis.options.method.families() == FamilyScheme::Round;
    let mut largest: Option<f64> = None;
    for r in &c.analysis.rows {
        let is_overall = &*r.pillar == OVERALL;
        let mut ps = vec![passed(r.level.p, r.level.q)];
        if one_family {
            ps.push(r.change.as_ref().and_then(|b| passed(b.p, b.q)));
            ps.push(r.trend.as_ref().and_then(|b| passed(b.p, b.q)));
        } else if is_overall != overall {
            continue;
        }
        for p in ps.into_iter().flatten() {
            largest = Some(largest.map_or(p, |l: f64| l.max(p)));
        }
    }
    let mut out = Vec::new();
    if let Some(z) = critical_z(opts.tier_alert, n, opts.p_method) {
        out.push((z, "95 % tier".to_owned()));
    }
    if let Some(z) = critical_z(opts.tier_alarm, n, opts.p_method) {
        out.push((z, "99.8 % tier".to_owned()));
    }
    // When no test of the family passed, the first to pass would need p ≤ α/m.
    let sizes = &c.analysis.family_sizes;
    let m = if one_family {
        sizes.round
    } else if overall {
        sizes.overall_level
    } else {
        sizes.level
    };
    let threshold = largest.or_else(|| (m > 0).then(|| alpha / m as f64));
    if let Some(z) = threshold.and_then(|p| critical_z(p, n, opts.p_method)) {
        out.push((z, "FDR limit".to_owned()));
    }
    out
}
