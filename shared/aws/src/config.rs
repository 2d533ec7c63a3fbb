//! Settings read from the environment (the names `template.yaml` sets) and the SDK configuration.

use hookline_domain::Error;

/// What every function needs to find its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `DELIVERY_QUEUE_URL`: the SQS queue of delivery tasks.
    pub delivery_queue_url: String,
    /// `ORDERED_QUEUE_URL`: the SQS FIFO queue of ordered webhooks' deliveries.
    pub ordered_queue_url: Option<String>,
    /// `RETENTION_DAYS`: how long messages and their log are kept (default 30).
    pub retention_days: u32,
    /// `ALLOW_HTTP_WEBHOOKS`: whether production webhooks may use plain http.
    pub allow_http_webhooks: bool,
    /// `ALLOWED_TARGET_CIDRS`: addresses the SSRF guard lets through anyway (comma-separated
    /// CIDRs; empty in production, loopback for local development).
    pub allowed_target_cidrs: String,
    /// `DISABLE_AFTER_DAYS`: a webhook whose deliveries all failed this long is disabled (default 5).
    pub disable_after_days: u32,
    /// `PORTAL_FRAME_ANCESTORS`: the pages that may embed the portal, as the sources of CSP's
    /// `frame-ancestors` (space-separated; default `'self'`).
    pub portal_frame_ancestors: String,
    /// `TRANSFORM_SANDBOX`: the binary that runs transformations (`hookline-transform`); unset,
    /// the process starts itself as the sandbox (what the Lambdas do).
    pub transform_sandbox: Option<std::path::PathBuf>,
    /// `ERASURE_SWEEP_SECONDS`: how long after an erasure its sweep runs, longer than the deliver
    /// function's timeout (default 120).
    pub erasure_sweep_seconds: u64,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let required = |name: &str| {
            lookup(name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| Error::internal(format!("environment variable {name} is not set")))
        };
        let retention_days = match lookup("RETENTION_DAYS") {
            None => 30,
            Some(text) => text
                .parse()
                .map_err(|_| Error::internal(format!("RETENTION_DAYS must be a whole number of days, not {text:?}")))?,
        };
        let disable_after_days = match lookup("DISABLE_AFTER_DAYS") {
            None => 5,
            Some(text) => text.parse().map_err(|_| {
                Error::internal(format!("DISABLE_AFTER_DAYS must be a whole number of days, not {text:?}"))
            })?,
        };
        let portal_frame_ancestors = lookup("PORTAL_FRAME_ANCESTORS")
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| "'self'".to_string());
        // A source list only: a `;` or a line break would let the setting add directives.
        let source = |byte: u8| byte.is_ascii_alphanumeric() || b"'*:/.-_ ".contains(&byte);
        if !portal_frame_ancestors.bytes().all(source) {
            return Err(Error::internal(format!(
                "PORTAL_FRAME_ANCESTORS must be CSP sources separated by spaces (e.g. 'self' https://app.example.com), not {portal_frame_ancestors:?}"
            )));
        }
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            delivery_queue_url: required("DELIVERY_QUEUE_URL")?,
            ordered_queue_url: lookup("ORDERED_QUEUE_URL").filter(|url| !url.is_empty()),
            retention_days,
            allow_http_webhooks: lookup("ALLOW_HTTP_WEBHOOKS").is_some_and(|value| value == "true"),
            allowed_target_cidrs: lookup("ALLOWED_TARGET_CIDRS").unwrap_or_default(),
            disable_after_days,
            portal_frame_ancestors,
            erasure_sweep_seconds: match lookup("ERASURE_SWEEP_SECONDS") {
                None => 120,
                Some(text) => text.parse().map_err(|_| {
                    Error::internal(format!("ERASURE_SWEEP_SECONDS must be a whole number of seconds, not {text:?}"))
                })?,
            },
            transform_sandbox: lookup("TRANSFORM_SANDBOX").filter(|path| !path.is_empty()).map(Into::into),
        })
    }
}

/// The SDK configuration from the environment. `AWS_ENDPOINT_URL` points it at an emulator;
/// there is no other code path for local runs.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn when_required_variables_set_should_use_defaults_for_the_rest() {
        let settings = Settings::from_lookup(lookup(&[("TABLE_NAME", "t"), ("DELIVERY_QUEUE_URL", "http://q")]))
            .expect("settings");
        assert_eq!(settings.retention_days, 30);
        assert!(!settings.allow_http_webhooks);
        assert_eq!(settings.portal_frame_ancestors, "'self'");
    }

    #[test]
    fn when_frame_ancestors_would_add_a_directive_should_fail() {
        let required = [("TABLE_NAME", "t"), ("DELIVERY_QUEUE_URL", "http://q")];
        let with =
            |value| Settings::from_lookup(lookup(&[required[0], required[1], ("PORTAL_FRAME_ANCESTORS", value)]));
        let allowed = with("'self' https://app.example.com https://*.example.org").expect("sources");
        assert_eq!(allowed.portal_frame_ancestors, "'self' https://app.example.com https://*.example.org");
        for injected in ["'self'; script-src *", "https://a.example\r\nx: y", "https://a.example,https://b"] {
            let error = with(injected).expect_err("refused");
            assert!(error.to_string().contains("PORTAL_FRAME_ANCESTORS"), "{injected}");
        }
    }

    #[test]
    fn when_table_name_missing_should_name_it() {
        let error = Settings::from_lookup(lookup(&[("DELIVERY_QUEUE_URL", "http://q")])).expect_err("missing");
        assert!(error.to_string().contains("TABLE_NAME"));
    }

    #[test]
    fn when_retention_is_not_a_number_should_fail() {
        let error = Settings::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("DELIVERY_QUEUE_URL", "http://q"),
            ("RETENTION_DAYS", "a month"),
        ]))
        .expect_err("bad");
        assert!(error.to_string().contains("RETENTION_DAYS"));
    }
}
