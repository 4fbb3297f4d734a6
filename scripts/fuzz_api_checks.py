"""schemathesis checks of scripts/fuzz-api.sh beyond the built-in ones (loaded via SCHEMATHESIS_HOOKS).

The API answers every error as an RFC 9457 problem: a 4xx or 5xx that is not
`application/problem+json` with the problem's own `status` fails, whether or not the document
declares that status for the operation (405 on a wrong method, for example, is declared nowhere).
"""
import json

import schemathesis


@schemathesis.check
def errors_are_problems(ctx, response, case):
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered as {content_type!r}, not application/problem+json"
        )
    try:
        problem = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code}: the problem is not JSON ({exc})") from None
    if not isinstance(problem, dict) or problem.get("status") != response.status_code:
        raise AssertionError(
            f"{response.status_code}: the problem's status is {problem.get('status') if isinstance(problem, dict) else problem!r}"
        )
    for field in ("type", "title", "detail"):
        if not isinstance(problem.get(field), str):
            raise AssertionError(f"{response.status_code}: the problem has no {field}")
    return None
