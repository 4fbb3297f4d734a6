//! What the console's browser tests share: a Cognito user pool on moto with an admin (temporary
//! password: the first sign-in meets the new-password challenge) and a viewer, the api function's
//! router with the console served over real HTTP on 127.0.0.1 (DynamoDB, Secrets Manager, Scheduler
//! on moto; both simulators), and a headless Debian Chromium driven over WebDriver (chromedriver).
#![allow(dead_code)] // each test binary uses a different part of this module

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api::console::{with_console, CognitoPool, CognitoSignIn, Console, TokenVerifier};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, ExplicitAuthFlowsType};
use fantoccini::{Client, ClientBuilder, Locator};
use integration_tests::{aws, fresh_table, secretsmanager_client, sim_clients, unique};
use jiff::Timestamp;
use serde_json::{json, Value};
use shared::credentials::SecretsManagerCredentials;
use shared::domain::{EntityKind, IntegrationId};
use shared::engine::{Clock, RecordingScheduler, SystemClock};
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets};
use shared::service::ServiceContext;
use shared::settings::IntegrationSettings;
use shared::store::dynamodb::DynamoStore;
use shared::store::{Mapping, StateStore};
use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

pub(crate) const ADMIN: &str = "anna.admin";
pub(crate) const ADMIN_TEMPORARY: &str = "Temporär-Passw0rt!";
pub(crate) const ADMIN_PASSWORD: &str = "Neues-Passw0rt-2026!";
pub(crate) const VIEWER: &str = "victor.viewer";
pub(crate) const VIEWER_PASSWORD: &str = "Viewer-Passw0rt-2026!";

/// A clock that can be moved forward: the console's token verifier reads it, so that a token can be
/// made to expire without waiting an hour.
#[derive(Default)]
pub(crate) struct OffsetClock {
    offset_seconds: AtomicI64,
}

impl OffsetClock {
    pub(crate) fn advance(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        let offset = jiff::SignedDuration::from_secs(self.offset_seconds.load(Ordering::SeqCst));
        Timestamp::now().checked_add(offset).expect("in range")
    }
}

/// The user pool on moto.
pub(crate) struct Pool {
    pub pool_id: String,
    pub client_id: String,
    pub client: aws_sdk_cognitoidentityprovider::Client,
}

impl Pool {
    /// A pool with an app client (USER_PASSWORD_AUTH, refresh), the `admin` and `viewer` groups, the
    /// admin (temporary password) and the viewer (permanent password).
    pub(crate) async fn create() -> Self {
        let client = aws_sdk_cognitoidentityprovider::Client::new(&aws().await);
        let pool_id = client
            .create_user_pool()
            .pool_name(unique("console"))
            .send()
            .await
            .expect("create user pool on moto")
            .user_pool()
            .and_then(|p| p.id())
            .expect("pool id")
            .to_string();
        let client_id = client
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("console")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("create app client")
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("client id")
            .to_string();
        for group in ["admin", "viewer"] {
            client
                .create_group()
                .user_pool_id(&pool_id)
                .group_name(group)
                .send()
                .await
                .expect("create group");
        }
        let pool = Self {
            pool_id,
            client_id,
            client,
        };
        pool.user(ADMIN, ADMIN_TEMPORARY, "admin", false).await;
        pool.user(VIEWER, VIEWER_PASSWORD, "viewer", true).await;
        pool
    }

    async fn user(&self, name: &str, password: &str, group: &str, permanent: bool) {
        self.client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(name)
            .temporary_password(password)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(format!("{name}@acme.example"))
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("create user");
        if permanent {
            self.client
                .admin_set_user_password()
                .user_pool_id(&self.pool_id)
                .username(name)
                .password(password)
                .permanent(true)
                .send()
                .await
                .expect("set permanent password");
        }
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.pool_id)
            .username(name)
            .group_name(group)
            .send()
            .await
            .expect("add user to group");
    }
}

/// The api function's router with the console, served on 127.0.0.1.
pub(crate) struct ConsoleServer {
    pub base: String,
    pub store: Arc<DynamoStore>,
    pub credentials: Arc<SecretsManagerCredentials>,
    pub personio: PersonioSim,
    pub timetrack: TimeTrackSim,
    pub clock: Arc<OffsetClock>,
    /// An integration with settings but no credentials yet (the Connect page stores them).
    pub id: IntegrationId,
    /// A second integration offered by the switcher, with nothing stored.
    pub other: IntegrationId,
    pub pool: Pool,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ConsoleServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub(crate) fn today() -> jiff::civil::Date {
    Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").expect("bundled tz"))
        .date()
}

impl ConsoleServer {
    pub(crate) async fn start() -> Self {
        let config = aws().await;
        let pool = Pool::create().await;
        let (store, _table) = fresh_table().await;
        let store = Arc::new(store);
        let credentials = Arc::new(SecretsManagerCredentials::new(
            secretsmanager_client().await,
            unique("secrets"),
            Duration::from_secs(300),
        ));
        let scheduler_client = aws_sdk_scheduler::Client::new(&config);
        let group = unique("group");
        scheduler_client
            .create_schedule_group()
            .name(&group)
            .send()
            .await
            .expect("create schedule group on moto");
        let schedules = EventBridgeScheduler::new(
            scheduler_client,
            SchedulerTargets {
                group,
                role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
                employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:employees".into(),
                time_entries_arn: "arn:aws:lambda:eu-central-1:123456789012:function:time-entries"
                    .into(),
                absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:absences".into(),
            },
        );
        let seed = Seed::company(today());
        let personio = PersonioSim::start(PersonioConfig::default(), &seed)
            .await
            .expect("start Personio simulator");
        let timetrack = TimeTrackSim::start(TimeTrackConfig::default(), &seed)
            .await
            .expect("start TimeTrack simulator");
        let context = ServiceContext {
            store: store.clone(),
            credentials: credentials.clone(),
            scheduler: Arc::new(RecordingScheduler::new()),
            clock: Arc::new(SystemClock),
            clients: sim_clients(&personio, &timetrack, Duration::from_secs(10)),
        };
        let state =
            api::ApiState::new(&context, Arc::new(schedules)).with_standard_workflows(&context);
        // Fixed names read well in the screenshots; the table, secrets prefix, schedule group and
        // user pool are this test's own, so no other test sees them.
        let id = IntegrationId::new("acme").expect("valid id");
        let other = IntegrationId::new("acme-austria").expect("valid id");
        store
            .put_settings(&id, &IntegrationSettings::example())
            .await
            .expect("put settings");
        let clock = Arc::new(OffsetClock::default());
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
        let console = Console::new(
            TokenVerifier::new(
                CognitoPool::new(&pool.pool_id, &pool.client_id, endpoint.as_deref()),
                reqwest::Client::new(),
                clock.clone(),
            ),
            CognitoSignIn::new(pool.client.clone(), pool.client_id.clone()),
            vec![id.clone(), other.clone()],
        );
        let app = with_console(api::router(state), console);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self {
            base,
            store,
            credentials,
            personio,
            timetrack,
            clock,
            id,
            other,
            pool,
            server,
        }
    }

    pub(crate) fn url(&self, page: &str) -> String {
        format!("{}/console/{}{page}", self.base, self.id)
    }

    /// A parked time-entry mapping, as the engine leaves one after repeated failures.
    pub(crate) async fn park(&self, mapping_id: &str) -> Mapping {
        let m = Mapping {
            integration_id: self.id.clone(),
            kind: EntityKind::TimeEntry,
            mapping_id: mapping_id.to_string(),
            personio_id: Some("90001".into()),
            timetrack_id: Some("70001".into()),
            fingerprint: Some("fp".into()),
            anchor_date: Some(today()),
            intent: None,
            failures: 5,
            last_error: Some("Personio answered HTTP 422: the period is locked".into()),
            parked: Some("5 consecutive failures".into()),
            updated_at: Timestamp::now(),
            version: 1,
        };
        self.store
            .put_mapping(&m)
            .await
            .expect("put parked mapping");
        m
    }

    pub(crate) async fn mapping(&self, mapping_id: &str) -> Mapping {
        self.store
            .list_mappings(&self.id, EntityKind::TimeEntry, None)
            .await
            .expect("list mappings")
            .into_iter()
            .find(|m| m.mapping_id == mapping_id)
            .expect("mapping stored")
    }

    pub(crate) async fn credentials_stored(&self) -> bool {
        use shared::credentials::CredentialsSource;
        self.credentials.credentials(&self.id).await.is_ok()
    }

    /// The integration's run records, newest first.
    pub(crate) async fn runs(&self) -> Vec<shared::runs::RunRecord> {
        self.store
            .list_runs(&self.id, None, 100, None)
            .await
            .expect("list runs")
            .runs
    }

    pub(crate) async fn settings(&self) -> Value {
        serde_json::to_value(
            self.store
                .get_settings(&self.id)
                .await
                .expect("read settings")
                .expect("settings stored"),
        )
        .expect("settings as JSON")
    }
}

/// The repository's root (screenshots go to `.run/console-screens/`, axe-core is read from
/// `tests/console/node_modules/`).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Headless Chromium under chromedriver; both end when this is dropped. chromedriver runs in a
/// process group of its own and the whole group is killed: killing chromedriver alone left its
/// Chromium processes running after the suite (orphans, seen after `make test`).
pub(crate) struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
    screens: PathBuf,
    /// The test's name, the screenshots' prefix.
    prefix: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (`process_group(0)`); `kill -KILL -<pgid>` ends every
        // process in it, Chromium's included.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Browser {
    pub(crate) async fn start(prefix: &str) -> Self {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: the console's browser tests need Debian's chromium and \
                 chromium-driver; run `make setup`"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let webdriver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if http
                .get(format!("{webdriver}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start on port {port}");
        let profile = std::env::temp_dir().join(unique("chromium-profile"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .expect("start a Chromium session");
        let screens = repo_root().join(".run/console-screens");
        std::fs::create_dir_all(&screens).expect("create .run/console-screens");
        Self {
            client,
            driver,
            profile,
            screens,
            prefix: prefix.to_string(),
        }
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub(crate) async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub(crate) async fn h1(&self) -> String {
        self.text("h1").await
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub(crate) async fn body(&self) -> String {
        self.text("body").await
    }

    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub(crate) async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no select {css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("no option {value} in {css}: {e}"));
    }

    /// Clicks what leads to another page (a link, a submit button) and waits until that page is
    /// loaded: the old document is marked, and the wait ends when a document without the mark is
    /// complete.
    pub(crate) async fn click(&self, css: &str) {
        self.client
            .execute("window.__consoleTestOldPage = true; return true;", vec![])
            .await
            .expect("mark the page");
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"))
            .click()
            .await
            .expect("click");
        for _ in 0..200 {
            let loaded = self
                .client
                .execute(
                    "return window.__consoleTestOldPage === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .unwrap_or(Value::Bool(false));
            if loaded == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} did not load another page within 10 s");
    }

    /// Writes a screenshot `.run/console-screens/<prefix>-<name>.png`.
    /// The whole page, not only the window: the window is made as tall as the page (at most 4000
    /// pixels) for the screenshot.
    pub(crate) async fn shot(&self, name: &str) {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|h| h.as_u64())
            .unwrap_or(1000)
            .clamp(600, 4000);
        self.client
            .set_window_size(1280, u32::try_from(height).unwrap_or(1000) + 140)
            .await
            .expect("resize for the screenshot");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client
            .set_window_size(1280, 1000)
            .await
            .expect("resize back");
        std::fs::write(
            self.screens.join(format!("{}-{name}.png", self.prefix)),
            png,
        )
        .expect("write screenshot");
    }

    /// Screenshot, then the accessibility checks of the page ([`Browser::check_accessibility`]).
    pub(crate) async fn review(&self, name: &str) {
        self.shot(name).await;
        self.check_accessibility(name).await;
    }

    /// Basic accessibility of the current page: axe-core's WCAG 2 A/AA rules (labels on every input,
    /// colour contrast, landmarks, names of buttons and links, ...) must find nothing, and the
    /// keyboard must reach the page's controls in order (Tab from the top: the skip link first, then
    /// every control — none is left out of the tab order).
    pub(crate) async fn check_accessibility(&self, page: &str) {
        let axe_path = repo_root().join("tests/console/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run `make setup` (npm ci in tests/console)",
                axe_path.display()
            )
        });
        self.client
            .execute(&format!("{axe}\nreturn true;"), vec![])
            .await
            .expect("inject axe-core");
        let violations = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
                     .then(r => done(r.violations.map(v => v.id + " (" + v.impact + "): " +
                        v.nodes.slice(0, 3).map(n => n.target.join(" ") + " — " + n.failureSummary).join(" | "))))
                     .catch(e => done(["axe failed: " + e]));"#,
                vec![],
            )
            .await
            .expect("run axe-core");
        let violations: Vec<String> =
            serde_json::from_value(violations).expect("a list of violations");
        assert!(
            violations.is_empty(),
            "accessibility problems on {page}:\n{}",
            violations.join("\n")
        );
        // Keyboard: from the top of the page, Tab visits the skip link first, and every control is
        // in the tab order (no positive or negative tabindex on links, buttons and fields).
        self.client
            .execute("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return true;", vec![])
            .await
            .expect("reset focus");
        let untabbable = self
            .client
            .execute(
                r#"return Array.from(document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea"))
                     .filter(e => e.tabIndex !== 0).map(e => e.outerHTML.slice(0, 80));"#,
                vec![],
            )
            .await
            .expect("tab order");
        assert_eq!(
            untabbable,
            json!([]),
            "controls outside the tab order on {page}"
        );
        let first = self.tab_and_describe().await;
        assert!(
            first.contains("skip-link") || first.starts_with("INPUT"),
            "Tab on {page} first reached {first}, not the skip link"
        );
        let second = self.tab_and_describe().await;
        assert_ne!(first, second, "Tab on {page} did not move the focus");
    }

    async fn tab_and_describe(&self) -> String {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let tab: char = Key::Tab.into();
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab });
        self.client.perform_actions(keys).await.expect("press Tab");
        let described = self
            .client
            .execute(
                "const e = document.activeElement; return e.tagName + ' ' + (e.className || '') + ' ' + (e.id || '');",
                vec![],
            )
            .await
            .expect("describe focus");
        described.as_str().unwrap_or_default().to_string()
    }

    /// Signs in through the form (the browser is on the sign-in page).
    pub(crate) async fn sign_in(&self, user: &str, password: &str) {
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
    }

    pub(crate) async fn cookie(&self, name: &str) -> Option<String> {
        self.client
            .get_named_cookie(name)
            .await
            .ok()
            .map(|c| c.value().to_string())
    }
}
