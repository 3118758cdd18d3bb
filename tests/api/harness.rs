//! Test harness: a fresh database per test, the app built exactly as in production, and helpers
//! for tokens and requests.

use std::collections::HashMap;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::{test, web};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::Value;

use dma::app;
use dma::auth::Role;
use dma::config::Config;
use dma::state::AppState;

pub const SECRET: &str = "test-signing-secret-of-at-least-32-chars";

/// A database that exists for one test.
pub enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir, String),
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("dma_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must point at a PostgreSQL server");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir.path().join("dma.sqlite").display().to_string();
                TestDb::Sqlite(dir, url)
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite(_, url) => url,
            TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut conn) = diesel::PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

pub fn config_for(db: &TestDb, extra: &[(&str, &str)]) -> Config {
    let data_dir = std::env::temp_dir().join(format!("dma-test-{}", uuid::Uuid::new_v4().simple()));
    let mut map: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url().to_owned()),
        ("DMA_JWT_SECRET".into(), SECRET.into()),
        ("DMA_DATA_DIR".into(), data_dir.display().to_string()),
        ("DMA_POOL_SIZE".into(), "3".into()),
        ("DMA_DEMO".into(), "false".into()),
        // Refusals are answered at once here; `fair_use` tests the delay on its own.
        ("DMA_RATE_LIMIT_DELAY_MS".into(), "0".into()),
    ]);
    for (k, v) in extra {
        map.insert((*k).into(), (*v).into());
    }
    Config::from_lookup(|k| map.get(k).cloned()).expect("test config")
}

/// The app under test with its database and state.
pub struct TestApp {
    pub state: web::Data<AppState>,
    pub db: TestDb,
}

impl TestApp {
    /// A fresh database with migrations and reference data.
    pub fn new() -> Self {
        Self::with_env(&[])
    }

    pub fn with_env(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new();
        let state = AppState::init(config_for(&db, extra)).expect("state");
        {
            let mut conn = state.pool.get().expect("connection");
            dma::seed::load_reference_data(&mut conn).expect("reference data");
        }
        Self {
            state: web::Data::new(state),
            db,
        }
    }

    pub fn token(&self, role: Role, orgs: &[&str]) -> String {
        self.state
            .keys
            .mint(
                &format!("test-{}", role.as_str()),
                Some("test-client"),
                role,
                orgs.iter().map(|s| s.to_string()).collect(),
                600,
            )
            .expect("token")
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin, &[])
    }

    pub fn analyst(&self) -> String {
        self.token(Role::Analyst, &[])
    }

    pub fn submitter(&self, orgs: &[&str]) -> String {
        self.token(Role::Submitter, orgs)
    }

    /// Sends one request and returns status, headers and the body (JSON when it parses).
    pub async fn call(&self, req: test::TestRequest) -> Reply {
        let app = test::init_service(app::build(self.state.clone())).await;
        let res = app.call(req.to_request()).await.expect("service call");
        Reply::read(res.map_into_boxed_body()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = test::TestRequest::default().method(method).uri(path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(b) = body {
            req = req.set_json(b);
        }
        self.call(req).await
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    async fn read(res: ServiceResponse<BoxBody>) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = test::read_body(res).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and that the body is a problem document with that status.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.json["status"], status, "body: {}", self.text);
        assert!(self.json["type"].is_string() && self.json["title"].is_string());
        assert!(self.json["detail"].is_string());
        &self.json
    }

    #[track_caller]
    pub fn assert_ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        &self.json
    }
}
