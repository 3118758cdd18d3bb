//! Returns as `QuestionnaireResponse`s.
