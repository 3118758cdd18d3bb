"""Schemathesis hooks for tests/contract/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

One carve-out, and only one: `min_ref_n` on the divergence operations. The document states the
bound every caller may use, minimum 5 (a submitter below 5 is refused with 403, since a smaller
reference would give away other organisations' scores); analysts and admins may also go down to 2.
A schema can carry one minimum, so 2 to 4 are "schema-invalid" values that the server rightly
accepts from national readers. Generated requests with those values are dropped instead of being
counted as invalid data the server failed to reject. Every other out-of-range value (below 2,
above 10000, not an integer) is still generated and must still be refused.
"""

import schemathesis

NATIONAL_ONLY_MIN_REF_N = ("2", "3", "4", 2, 3, 4)


def _national_only(query):
    if not isinstance(query, dict):
        return False
    value = query.get("min_ref_n")
    values = value if isinstance(value, list) else [value]
    return any(v in NATIONAL_ONLY_MIN_REF_N and not isinstance(v, bool) for v in values)


@schemathesis.hook
def filter_query(context, query):
    return not _national_only(query)


@schemathesis.hook
def filter_case(context, case):
    return not _national_only(case.query)
