//! What a provider reads from the CI variables: the documented fields and the metadata groups.
//!
//! Every provider fills the same [`Job`], so the payload has one shape whatever the CI: the
//! documented top-level fields, and under `metadata` a fixed set of groups (`job`, `pipeline`,
//! `merge_request`, `commit`, `server`, `runner`, `project`) with a fixed set of keys each, all
//! strings, written only when the provider knows a value. The JSON Schema in `schema/` lists the
//! same keys; the tests hold the two together.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::url;

/// One metadata group: key to value, keys from a fixed list, values never empty.
pub(crate) type Group = BTreeMap<&'static str, String>;

/// The documented top-level fields (except `provider` and `log`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields {
    pub(crate) project: String,
    pub(crate) pipeline_id: String,
    pub(crate) job_id: String,
    pub(crate) job_name: String,
    pub(crate) status: Option<String>,
    pub(crate) branch: String,
    pub(crate) commit_sha: String,
    pub(crate) pipeline_url: String,
}

/// The provider-described groups of `metadata`.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Groups {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) job: Group,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) pipeline: Group,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) merge_request: Group,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) commit: Group,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) server: Group,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) runner: Group,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) project: Group,
}

/// Everything a provider reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Job {
    pub(crate) fields: Fields,
    pub(crate) groups: Groups,
}

/// Sets `group[key]` when `value` is known. Values under keys ending in `url` lose any
/// credentials they carry.
pub(crate) fn put(group: &mut Group, key: &'static str, value: Option<impl AsRef<str>>) {
    let Some(value) = value else { return };
    let value = value.as_ref();
    if value.trim().is_empty() {
        return;
    }
    let value = if key.ends_with("url") {
        url::strip_userinfo(value)
    } else {
        value.to_string()
    };
    group.insert(key, value);
}

/// The value or the empty string: documented fields are always present.
pub(crate) fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_string()
}

/// The first line of a commit message, for its title.
pub(crate) fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default().trim_end()
}

/// A Git ref without its `refs/heads/` (or `refs/tags/`) prefix.
pub(crate) fn short_ref(reference: &str) -> &str {
    reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("refs/tags/"))
        .unwrap_or(reference)
}
