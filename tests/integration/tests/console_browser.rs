//! The web console in a real browser (headless Debian Chromium over WebDriver), against Cognito,
//! DynamoDB, Secrets Manager and Scheduler on moto and both simulators: the HR admin's setup and
//! sync, the viewer's refusals, and the session's protections. Every page visited is screenshotted
//! to `.run/console-screens/` and checked for basic accessibility (axe-core, keyboard).
mod console_support;

use console_support::{
    today, Browser, ConsoleServer, ADMIN, ADMIN_PASSWORD, ADMIN_TEMPORARY, VIEWER, VIEWER_PASSWORD,
};
use fantoccini::Locator;
use jiff::ToSpan;
use serde_json::Value;

/// Signs the admin in for the first time: temporary password, then the new-password challenge.
async fn first_sign_in(b: &Browser, s: &ConsoleServer) {
    b.goto(&s.url("/runs")).await;
    assert!(
        b.path().await.starts_with("/console/sign-in"),
        "{}",
        b.path().await
    );
    b.review("01-sign-in").await;
    b.sign_in(ADMIN, ADMIN_TEMPORARY).await;
    assert_eq!(b.h1().await, "Choose a new password");
    b.review("02-new-password").await;
    b.fill("#new_password", ADMIN_PASSWORD).await;
    b.fill("#confirm_password", ADMIN_PASSWORD).await;
    b.click("form button[type=submit]").await;
    assert_eq!(b.path().await, format!("/console/{}/runs", s.id));
    assert!(b.body().await.contains(&format!("Signed in as {ADMIN}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_admin_connects_imports_maps_previews_runs_and_releases_in_the_browser() {
    let s = ConsoleServer::start().await;
    let parked = s.park("0b6f7c1e-parked").await;
    let b = Browser::start("admin").await;
    first_sign_in(&b, &s).await;
    b.review("03-runs-empty").await;

    // Connect: both sides checked with the simulators' credentials; the secrets are never shown back.
    b.click("nav a[href$='/connect']").await;
    b.review("04-connect").await;
    let p = simulators::PersonioConfig::default();
    let t = simulators::TimeTrackConfig::default();
    b.fill("#personio_client_id", &p.client_id).await;
    b.fill("#personio_client_secret", &p.client_secret).await;
    b.fill("#timetrack_account", &t.account).await;
    b.fill("#timetrack_api_key", &t.api_key).await;
    b.fill("#timetrack_api_secret", &t.api_secret).await;
    b.click("form.stack button[type=submit]").await;
    let report = b.text("#connect-report").await;
    assert!(report.contains("Personio Connected."), "{report}");
    assert!(report.contains("TimeTrack Connected."), "{report}");
    assert!(!b.client.source().await.unwrap().contains(&p.client_secret));
    b.review("05-connect-checked").await;
    assert!(s.credentials_stored().await);

    // Settings: a 422 shows its problem next to the field; then import only the listed persons.
    b.click("nav a[href$='/settings']").await;
    b.review("06-settings").await;
    b.fill("#time_zone", "Mars/Olympus").await;
    b.click("form.stack button[type=submit]").await;
    let problem = b.text("#time_zone-problem").await;
    assert!(problem.contains("Mars/Olympus"), "{problem}");
    assert_eq!(
        b.client
            .find(Locator::Css("#time_zone"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.review("07-settings-problem").await;
    assert_eq!(
        s.settings().await["time_zone"],
        "Europe/Berlin",
        "nothing stored"
    );
    b.fill("#time_zone", "Europe/Berlin").await;
    b.select("#employees-selection-type", "ids").await;
    b.fill("#employees-selection-ids", "1002").await;
    b.click("form.stack button[type=submit]").await;
    assert!(b.body().await.contains("The settings are saved."));
    assert_eq!(
        s.settings().await["employees"]["selection"],
        serde_json::json!({"type": "ids", "ids": ["1002"]})
    );

    // Employees: tick the two Personio-only persons, preview what would be created, then import.
    b.click("nav a[href$='/employees']").await;
    b.review("08-employees").await;
    let boxes = b
        .client
        .find_all(Locator::Css("input[name=import]"))
        .await
        .unwrap();
    assert!(boxes.len() >= 2, "at least two import candidates");
    let mut ticked = Vec::new();
    for cb in boxes.iter().take(2) {
        cb.click().await.unwrap();
        ticked.push(cb.attr("value").await.unwrap().unwrap());
    }
    b.click("button[value=preview]").await;
    let plan = b.text("#plan").await;
    assert_eq!(plan.matches("Create").count(), 2, "{plan}");
    assert!(plan.contains("Thomas Müller"), "{plan}");
    assert!(b.body().await.contains("nothing was written"));
    b.review("09-employees-preview").await;
    for id in &ticked {
        let still = b
            .client
            .find(Locator::Css(&format!("#import-{id}")))
            .await
            .unwrap();
        assert!(still.is_selected().await.unwrap(), "the selection is kept");
    }
    b.click("button[value=run]").await;
    assert!(b.path().await.contains("/runs/"), "{}", b.path().await);
    assert!(b.h1().await.starts_with("Run of employees"));
    let summary = b.text("table.summary").await;
    assert!(summary.contains("TimeTrack: 2 created"), "{summary}");
    b.review("10-employees-run").await;

    // Absence types: map TimeTrack "Urlaub" (and its half day) to Personio "Vacation".
    b.click("nav a[href$='/absence-types']").await;
    b.review("11-absence-types").await;
    b.fill("#timetrack_type_id", "1").await;
    b.fill("#half_day_timetrack_type_id", "2").await;
    b.select("#master", "timetrack").await;
    let vacation = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#personio_type_id option')).find(o => o.textContent === 'Vacation').value;",
            vec![],
        )
        .await
        .unwrap();
    b.select("#personio_type_id", vacation.as_str().unwrap())
        .await;
    b.click("form.stack button[type=submit]").await;
    let mappings = b.text("#mappings").await;
    assert!(mappings.contains("Urlaub (#1)"), "{mappings}");
    assert!(mappings.contains("Vacation"), "{mappings}");
    let stored = s.settings().await;
    assert_eq!(
        stored["absences"]["type_mappings"][0]["timetrack_type_id"],
        1
    );
    assert_eq!(
        stored["absences"]["type_mappings"][0]["half_day_timetrack_type_id"],
        2
    );
    b.review("12-absence-types-mapped").await;

    // Sync now: preview the last two weeks of time entries, then run exactly that.
    b.click("nav a[href$='/sync']").await;
    b.review("13-sync").await;
    let from = today().checked_sub(14.days()).unwrap().to_string();
    let to = today().to_string();
    set_date(&b, "#from", &from).await;
    set_date(&b, "#to", &to).await;
    b.select("#workflow", "time-entries").await;
    b.click("button[value=preview]").await;
    assert_eq!(b.text("#preview").await, "Preview");
    let plan = b.text("#plan").await;
    assert!(
        plan.contains("Jürgen Müller"),
        "names, not only ids: {plan}"
    );
    b.review("14-sync-preview").await;
    let runs_before = s.runs().await;
    b.click("form.run-this button").await;
    assert!(
        b.h1().await.starts_with("Run of time-entries"),
        "{}",
        b.h1().await
    );
    let run_path = b.path().await;
    let summary = b.text("table.summary").await;
    assert!(summary.contains(&format!("{from} – {to}")), "{summary}");
    assert!(!summary.contains("preview"), "{summary}");
    b.review("15-run").await;
    assert_eq!(s.runs().await.len(), runs_before.len() + 1);

    // Runs: the history links to the run.
    b.click("nav a[href$='/runs']").await;
    let runs = b.text("#runs").await;
    assert!(runs.contains("time-entries"), "{runs}");
    assert!(runs.contains("employees (preview)"), "{runs}");
    b.review("16-runs").await;
    b.click(&format!("a[href='{run_path}']")).await;
    assert_eq!(b.path().await, run_path);

    // Parked records: release one.
    b.click("nav a[href$='/parked']").await;
    assert!(b.text("#parked").await.contains("5 consecutive failures."));
    b.review("17-parked").await;
    b.click("#parked button").await;
    assert!(b.body().await.contains("Released 0b6f7c1e-parked"));
    let after = s.mapping(&parked.mapping_id).await;
    assert_eq!(after.parked, None);
    assert_eq!(after.failures, 0);
    b.review("18-parked-released").await;

    // Schedules.
    b.click("nav a[href$='/schedules']").await;
    b.review("19-schedules").await;
    b.select("#time-entries-enabled", "true").await;
    b.select("#time-entries-interval", "hourly").await;
    b.click("form:has(#time-entries-enabled) button").await;
    assert!(b
        .body()
        .await
        .contains("The time entries schedule is saved."));

    // The switcher: the other integration has nothing stored — its problem is shown in words.
    b.select("#integration-switch", s.other.as_str()).await;
    b.click("header form[action='/console/switch'] button")
        .await;
    assert_eq!(b.path().await, format!("/console/{}/runs", s.other));
    let problem = b.text(".problem").await;
    assert!(problem.contains("Unknown integration"), "{problem}");
    assert!(problem.ends_with('.'), "a sentence: {problem}");
    b.review("20-other-integration").await;

    // Sign out: the session is gone.
    b.click("header form[action='/console/sign-out'] button")
        .await;
    assert!(b.body().await.contains("You are signed out."));
    b.goto(&s.url("/runs")).await;
    assert!(b.path().await.starts_with("/console/sign-in"));
}

/// Sets a date input through script (typing into `type=date` depends on the browser's locale).
async fn set_date(b: &Browser, css: &str, value: &str) {
    b.client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1]; return true;",
            vec![Value::from(css), Value::from(value)],
        )
        .await
        .expect("set date");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_viewer_reads_but_is_refused_changes_with_a_403_page_in_the_browser() {
    let s = ConsoleServer::start().await;
    let parked = s.park("viewer-parked").await;
    let settings_before = s.settings().await;
    let b = Browser::start("viewer").await;
    b.goto(&s.url("/parked")).await;
    b.sign_in(VIEWER, VIEWER_PASSWORD).await;
    assert_eq!(b.path().await, format!("/console/{}/parked", s.id));
    assert!(b.body().await.contains("(viewer)"));
    assert!(b.text("#parked").await.contains("5 consecutive failures."));

    // Release: refused with a 403 page, the mapping stays parked.
    b.click("#parked button").await;
    assert_eq!(b.h1().await, "Not allowed");
    let status = b
        .client
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    assert!(b.body().await.contains("Nothing was changed."));
    b.review("01-refused").await;
    assert_eq!(
        s.mapping(&parked.mapping_id)
            .await
            .parked
            .map(|p| p.to_string())
            .as_deref(),
        Some("5 consecutive failures")
    );

    // Settings: readable, but saving is refused and nothing is stored.
    b.goto(&s.url("/settings")).await;
    assert_eq!(b.h1().await, "Settings");
    b.fill("#time_zone", "Europe/Vienna").await;
    b.click("form.stack button[type=submit]").await;
    assert_eq!(b.h1().await, "Not allowed");
    assert_eq!(s.settings().await, settings_before);

    // Sync now: no preview or run for a viewer, and no run record.
    b.goto(&s.url("/sync")).await;
    b.click("button[value=run]").await;
    assert_eq!(b.h1().await, "Not allowed");
    assert!(s.runs().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_session_without_or_with_a_bad_or_expired_token_or_csrf_is_refused_in_the_browser()
{
    let s = ConsoleServer::start().await;
    let parked = s.park("session-parked").await;
    let b = Browser::start("session").await;

    // No session: sent to the sign-in page, and back to the page after signing in.
    b.goto(&s.url("/parked")).await;
    let path = b.path().await;
    assert!(
        path.starts_with("/console/sign-in?reason=signed-out"),
        "{path}"
    );
    b.sign_in(VIEWER, "wrong password").await;
    assert!(b
        .text(".problem")
        .await
        .contains("The user name or password is wrong."));
    b.review("01-wrong-password").await;
    b.sign_in(VIEWER, VIEWER_PASSWORD).await;
    assert_eq!(b.path().await, format!("/console/{}/parked", s.id));
    let cookie = b.client.get_named_cookie("console-id").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(cookie::SameSite::Strict));
    let good = cookie.value().to_string();

    // A forged token (signature changed): refused, cookies cleared, sent to sign-in.
    let mut forged = good.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    replace_cookie(&b, "console-id", &forged).await;
    b.goto(&s.url("/runs")).await;
    assert!(b
        .path()
        .await
        .starts_with("/console/sign-in?reason=invalid"));
    assert!(b.body().await.contains("Your session was not accepted."));
    assert_eq!(b.cookie("console-id").await, None);

    // The ID-token cookie gone but the refresh token there: the session is renewed.
    b.sign_in(VIEWER, VIEWER_PASSWORD).await;
    b.client.delete_cookie("console-id").await.unwrap();
    b.goto(&s.url("/runs")).await;
    assert_eq!(b.path().await, format!("/console/{}/runs", s.id));
    assert!(b.cookie("console-id").await.is_some(), "a renewed ID token");

    // Expired (the verifier's clock two hours on) without a refresh token: sign in again.
    b.client.delete_cookie("console-refresh").await.unwrap();
    s.clock.advance(2 * 3600);
    b.goto(&s.url("/runs")).await;
    assert!(b
        .path()
        .await
        .starts_with("/console/sign-in?reason=expired"));
    assert!(b.body().await.contains("Your session has expired."));
    b.review("02-expired").await;
    s.clock.advance(0);

    // A form without the CSRF token: refused, nothing changed (an admin, who may release).
    b.goto(&s.url("/parked")).await;
    assert!(b.path().await.starts_with("/console/sign-in"));
    b.sign_in(ADMIN, ADMIN_TEMPORARY).await;
    b.fill("#new_password", ADMIN_PASSWORD).await;
    b.fill("#confirm_password", ADMIN_PASSWORD).await;
    b.click("form button[type=submit]").await;
    assert!(b.body().await.contains(&format!("Signed in as {ADMIN}")));
    b.client
        .execute(
            "document.querySelectorAll('#parked input[name=csrf]').forEach(e => e.remove()); return true;",
            vec![],
        )
        .await
        .unwrap();
    b.click("#parked button").await;
    assert_eq!(b.h1().await, "Form refused");
    assert_eq!(
        s.mapping(&parked.mapping_id)
            .await
            .parked
            .map(|p| p.to_string())
            .as_deref(),
        Some("5 consecutive failures")
    );
    // A wrong token is refused the same way.
    b.goto(&s.url("/parked")).await;
    b.client
        .execute(
            "document.querySelectorAll('#parked input[name=csrf]').forEach(e => e.value = 'f00'); return true;",
            vec![],
        )
        .await
        .unwrap();
    b.click("#parked button").await;
    assert_eq!(b.h1().await, "Form refused");
    b.review("03-csrf-refused").await;
    assert_eq!(
        s.mapping(&parked.mapping_id)
            .await
            .parked
            .map(|p| p.to_string())
            .as_deref(),
        Some("5 consecutive failures")
    );
}

async fn replace_cookie(b: &Browser, name: &str, value: &str) {
    b.client.delete_cookie(name).await.unwrap();
    let mut c = cookie::Cookie::new(name.to_string(), value.to_string());
    c.set_path("/");
    c.set_domain("127.0.0.1");
    c.set_http_only(true);
    c.set_same_site(cookie::SameSite::Strict);
    b.client.add_cookie(c).await.unwrap();
}
