//! The page frame in the NHS.UK frontend's markup (skip link, header with the service name and
//! account menu, breadcrumbs, main, footer) and small formatting helpers shared by the pages.

use actix_web::HttpResponse;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::assets::VERSION;
use super::session::Viewer;

pub const SERVICE_NAME: &str = "Digital maturity assessment";

/// The NHS logo, as the design system's header template draws it.
const NHS_LOGO: &str = r#"<svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS"><title>NHS</title><path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"/></svg>"#;

/// One step of the breadcrumb trail.
pub struct Crumb {
    pub text: String,
    pub href: String,
}

pub fn crumb(text: impl Into<String>, href: impl Into<String>) -> Crumb {
    Crumb {
        text: text.into(),
        href: href.into(),
    }
}

/// A whole page: `title` is the page's `<title>` and `h1`-level subject; `crumbs` lead to it.
pub struct Page<'a> {
    pub title: &'a str,
    pub viewer: Option<&'a Viewer>,
    pub crumbs: Vec<Crumb>,
    /// A class on `<body>` (page-specific print rules).
    pub body_class: &'a str,
}

impl Page<'_> {
    pub fn render(&self, content: Markup) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(self.markup(content).into_string())
    }

    pub fn markup(&self, content: Markup) -> Markup {
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { (self.title) " – " (SERVICE_NAME) " – NHS" }
                    meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover";
                    meta name="theme-color" content="#005eb8";
                    link rel="icon" href="/app/assets/nhsuk/images/favicon.ico" sizes="48x48";
                    link rel="icon" href="/app/assets/nhsuk/images/favicon.svg" sizes="any" type="image/svg+xml";
                    link rel="stylesheet" href={ "/app/assets/nhsuk-frontend.min.css?v=" (VERSION) };
                    link rel="stylesheet" href={ "/app/assets/app.css?v=" (VERSION) };
                    script type="module" src={ "/app/assets/app.js?v=" (VERSION) } {}
                }
                body class=(self.body_class) {
                    script src={ "/app/assets/init.js?v=" (VERSION) } {}
                    a class="nhsuk-skip-link" data-module="nhsuk-skip-link" href="#maincontent" { "Skip to main content" }
                    (header(self.viewer))
                    div class="nhsuk-width-container" {
                        @if !self.crumbs.is_empty() {
                            nav class="nhsuk-breadcrumb" aria-label="Breadcrumb" {
                                ol class="nhsuk-breadcrumb__list" {
                                    @for c in &self.crumbs {
                                        li class="nhsuk-breadcrumb__list-item" {
                                            a class="nhsuk-breadcrumb__link" href=(c.href) { (c.text) }
                                        }
                                    }
                                }
                            }
                        }
                        main class="nhsuk-main-wrapper" id="maincontent" {
                            (content)
                        }
                    }
                    (footer())
                }
            }
        }
    }
}

fn header(viewer: Option<&Viewer>) -> Markup {
    html! {
        header class="nhsuk-header" data-module="nhsuk-header" role="banner" {
            div class="nhsuk-header__container nhsuk-width-container" {
                div class="nhsuk-header__service" {
                    a class="nhsuk-header__service-logo" href="/app" aria-label={ "NHS " (SERVICE_NAME) " homepage" } {
                        (PreEscaped(NHS_LOGO))
                        span class="nhsuk-header__service-name" { (SERVICE_NAME) }
                    }
                }
                @if let Some(v) = viewer {
                    nav class="nhsuk-header__account" aria-label="Account" {
                        ul class="nhsuk-header__account-list" {
                            li class="nhsuk-header__account-item" {
                                (v.who.subject) " (" (v.who.role.as_str()) ")"
                            }
                            li class="nhsuk-header__account-item" {
                                form class="nhsuk-header__account-form" action="/app/sign-out" method="post" novalidate {
                                    input type="hidden" name="csrf_token" value=(v.csrf);
                                    button class="nhsuk-header__account-button" { "Sign out" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn footer() -> Markup {
    html! {
        footer role="contentinfo" {
            div class="nhsuk-footer" {
                div class="nhsuk-width-container" {
                    div class="nhsuk-footer__meta" {
                        h2 class="nhsuk-u-visually-hidden" { "Support links" }
                        ul class="nhsuk-footer__list" {
                            li class="nhsuk-footer__list-item" { a class="nhsuk-footer__list-item-link" href="/docs/" { "API documentation" } }
                            li class="nhsuk-footer__list-item" { a class="nhsuk-footer__list-item-link" href="/app/assets/nhsuk/LICENSE" { "NHS.UK frontend licence" } }
                        }
                        p class="nhsuk-body-s" { "Built with the NHS.UK frontend design system." }
                    }
                }
            }
        }
    }
}

/// The body of an error page.
pub fn error_page(title: &str, detail: &str) -> Markup {
    Page {
        title,
        viewer: None,
        crumbs: vec![crumb("Home", "/app")],
        body_class: "",
    }
    .markup(html! {
        h1 { (title) }
        p { (detail) }
        p { a href="/app" { "Go to the start page" } }
    })
}

/// A score or gap with 2 decimals; an en dash for none.
pub fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.2}");
            if s == "-0.00" {
                "0.00".into()
            } else {
                s.replace('-', "−")
            }
        }
        _ => "–".into(),
    }
}

/// A signed figure with 2 decimals (`+0.40`, `−1.20`).
pub fn signed(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() && x > 0.0 && format!("{x:.2}") != "0.00" => format!("+{x:.2}"),
        other => num(other),
    }
}

/// The same figure with plain ASCII minus, for `data-*` attributes that tests and scripts read.
pub fn raw(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.4}"))
        .unwrap_or_default()
}

/// A URL query string from pairs, skipping empty values.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
    }
}
