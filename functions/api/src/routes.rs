//! The route table: the one list that both the router ([`crate::router`]) and the OpenAPI test read,
//! so that a route cannot exist without being documented (or the other way round).
use axum::routing::{delete, get, post, put, MethodRouter};

use crate::handlers;
use crate::ApiState;

/// What a route does (the router maps each to its handler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    ManualSync,
    ListRuns,
    GetRun,
    PutCredentials,
    Connect,
    Candidates,
    AbsenceTypes,
    GetSettings,
    PutSettings,
    GetSchedule,
    PutSchedule,
    ListParked,
    ReleaseParked,
    ListAudit,
    ReceiveWebhook,
    PutWebhook,
    GetWebhook,
    DeleteWebhook,
    OpenApi,
}

/// One route: method, axum path template (the OpenAPI path is the same string) and every status the
/// route may answer.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub id: RouteId,
    pub method: &'static str,
    pub path: &'static str,
    pub responses: &'static [u16],
}

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        id: RouteId::ManualSync,
        method: "POST",
        path: "/integrations/{integration_id}/sync/{workflow}",
        responses: &[200, 202, 400, 404, 409, 413, 415, 422, 502, 503],
    },
    RouteSpec {
        id: RouteId::ListRuns,
        method: "GET",
        path: "/integrations/{integration_id}/runs",
        responses: &[200, 400, 404, 503],
    },
    RouteSpec {
        id: RouteId::GetRun,
        method: "GET",
        path: "/integrations/{integration_id}/runs/{run_id}",
        responses: &[200, 400, 404, 503],
    },
    RouteSpec {
        id: RouteId::PutCredentials,
        method: "PUT",
        path: "/integrations/{integration_id}/credentials",
        responses: &[200, 400, 413, 415, 422, 503],
    },
    RouteSpec {
        id: RouteId::Connect,
        method: "POST",
        path: "/integrations/{integration_id}/connect",
        responses: &[200, 400, 422, 503],
    },
    RouteSpec {
        id: RouteId::Candidates,
        method: "GET",
        path: "/integrations/{integration_id}/employees/candidates",
        responses: &[200, 400, 404, 422, 502, 503],
    },
    RouteSpec {
        id: RouteId::AbsenceTypes,
        method: "GET",
        path: "/integrations/{integration_id}/absence-types",
        responses: &[200, 400, 404, 422, 502, 503],
    },
    RouteSpec {
        id: RouteId::GetSettings,
        method: "GET",
        path: "/integrations/{integration_id}/settings",
        responses: &[200, 400, 404, 503],
    },
    RouteSpec {
        id: RouteId::PutSettings,
        method: "PUT",
        path: "/integrations/{integration_id}/settings",
        responses: &[200, 400, 413, 415, 422, 503],
    },
    RouteSpec {
        id: RouteId::GetSchedule,
        method: "GET",
        path: "/integrations/{integration_id}/workflows/{workflow}/schedule",
        responses: &[200, 400, 404, 503],
    },
    RouteSpec {
        id: RouteId::PutSchedule,
        method: "PUT",
        path: "/integrations/{integration_id}/workflows/{workflow}/schedule",
        responses: &[200, 400, 404, 413, 415, 422, 503],
    },
    RouteSpec {
        id: RouteId::ListParked,
        method: "GET",
        path: "/integrations/{integration_id}/parked",
        responses: &[200, 400, 404, 503],
    },
    RouteSpec {
        id: RouteId::ReleaseParked,
        method: "POST",
        path: "/integrations/{integration_id}/parked/{kind}/{mapping_id}/release",
        responses: &[200, 400, 404, 409, 503],
    },
    RouteSpec {
        id: RouteId::ListAudit,
        method: "GET",
        path: "/integrations/{integration_id}/audit",
        responses: &[200, 400, 503],
    },
    RouteSpec {
        id: RouteId::ReceiveWebhook,
        method: "POST",
        path: "/integrations/{integration_id}/webhooks/personio",
        responses: &[200, 202, 400, 401, 403, 413, 503],
    },
    RouteSpec {
        id: RouteId::PutWebhook,
        method: "PUT",
        path: "/integrations/{integration_id}/webhooks",
        responses: &[200, 201, 400, 404, 413, 415, 422, 502, 503],
    },
    RouteSpec {
        id: RouteId::GetWebhook,
        method: "GET",
        path: "/integrations/{integration_id}/webhooks",
        responses: &[200, 400, 404, 503],
    },
    RouteSpec {
        id: RouteId::DeleteWebhook,
        method: "DELETE",
        path: "/integrations/{integration_id}/webhooks",
        responses: &[200, 400, 404, 422, 502, 503],
    },
    RouteSpec {
        id: RouteId::OpenApi,
        method: "GET",
        path: "/openapi.json",
        responses: &[200],
    },
];

/// The handler of a route.
pub(crate) fn method_router(id: RouteId) -> MethodRouter<ApiState> {
    use handlers::*;
    match id {
        RouteId::ManualSync => post(shared::service::http::manual_sync),
        RouteId::ListRuns => get(runs::list_runs),
        RouteId::GetRun => get(runs::get_run),
        RouteId::PutCredentials => put(credentials::put_credentials),
        RouteId::Connect => post(credentials::connect),
        RouteId::Candidates => get(candidates::list_candidates),
        RouteId::AbsenceTypes => get(absence_types::list_absence_types),
        RouteId::GetSettings => get(settings::get_settings),
        RouteId::PutSettings => put(settings::put_settings),
        RouteId::GetSchedule => get(schedules::get_schedule),
        RouteId::PutSchedule => put(schedules::put_schedule),
        RouteId::ListParked => get(parked::list_parked),
        RouteId::ReleaseParked => post(parked::release_parked),
        RouteId::ListAudit => get(audit::list_audit),
        RouteId::ReceiveWebhook => post(webhooks::receive),
        RouteId::PutWebhook => put(webhooks::put_subscription),
        RouteId::GetWebhook => get(webhooks::get_subscription),
        RouteId::DeleteWebhook => delete(webhooks::delete_subscription),
        RouteId::OpenApi => get(openapi::openapi),
    }
}
