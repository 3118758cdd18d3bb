//! The portable diesel schema shared by both backends (text, integer, bigint, double, date,
//! timestamp only; JSON documents are stored as text).

diesel::table! {
    organisations (ods_code) {
        ods_code -> Text,
        name -> Text,
        org_type -> Text,
        region_code -> Nullable<Text>,
        icb_code -> Nullable<Text>,
        opened_on -> Nullable<Date>,
        closed_on -> Nullable<Date>,
        successor_code -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisation_predecessors (successor_code, predecessor_code) {
        successor_code -> Text,
        predecessor_code -> Text,
        merged_on -> Nullable<Date>,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        organisations -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_key -> Text,
        summary -> Text,
        request_id -> Nullable<Text>,
        client_id -> Nullable<Text>,
    }
}

diesel::table! {
    frameworks (key) {
        key -> Text,
        title -> Text,
        version -> Text,
        method -> Text,
        status -> Text,
        document -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rounds (key) {
        key -> Text,
        title -> Text,
        framework_key -> Text,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        status -> Text,
        synthetic -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        round_key -> Text,
        ods_code -> Text,
        status -> Text,
        version -> Integer,
        answers -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        submitted_by -> Nullable<Text>,
    }
}

diesel::table! {
    scores (assessment_id, pillar, domain) {
        assessment_id -> Text,
        round_key -> Text,
        ods_code -> Text,
        scope -> Text,
        pillar -> Text,
        domain -> Text,
        score -> Nullable<Double>,
        coverage -> Double,
        answered -> Integer,
        applicable -> Integer,
    }
}

diesel::table! {
    peer_groups (key) {
        key -> Text,
        title -> Text,
        org_type -> Text,
        members -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(rounds -> frameworks (framework_key));
diesel::joinable!(assessments -> rounds (round_key));
diesel::joinable!(assessments -> organisations (ods_code));
diesel::joinable!(scores -> assessments (assessment_id));

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        subject -> Text,
        role -> Text,
        organisations -> Text,
        csrf_token -> Text,
        method -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_links (token_hash) {
        token_hash -> Text,
        subject -> Text,
        role -> Text,
        organisations -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    organisation_predecessors,
    api_clients,
    audit_events,
    frameworks,
    rounds,
    assessments,
    scores,
    peer_groups,
);
