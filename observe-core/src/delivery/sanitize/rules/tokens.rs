//! Provider tokens that are recognisable by themselves, with no telling key
//! around them: one alternative per provider, from each one's published
//! prefix, alphabet and length. The keywords are the literal prefixes, for
//! the prefilter.

/// The alternatives, one provider (or family) per line.
pub(crate) const PATTERN: &str = concat!(
    // Hugging Face user and organisation tokens
    r"hf_[A-Za-z0-9]{30,40}|api_org_[A-Za-z0-9]{30,40}",
    // GitLab personal, deploy, runner, pipeline trigger, CI job, feed,
    // OAuth application tokens; runner registration tokens
    r"|gl(?:pat|dt|rt|ptt|cbt|imt|ft|soat|oas|wt|ffct)-[A-Za-z0-9_.-]{20,}|glagent-[A-Za-z0-9_-]{50,}|GR1348941[A-Za-z0-9_-]{20,}",
    // npm, PyPI (a macaroon), RubyGems
    r"|npm_[A-Za-z0-9]{36}|pypi-Ag[A-Za-z0-9_-]{50,}|rubygems_[a-f0-9]{48}",
    // Databricks, SendGrid, Mailgun
    r"|dapi[a-f0-9]{32}(?:-[0-9])?|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|key-[a-f0-9]{32}",
    // DigitalOcean, Shopify, Linear, Doppler, Postman
    r"|do[opr]_v1_[a-f0-9]{64}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|lin_(?:api|oauth)_[A-Za-z0-9]{40,64}",
    r"|dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
    // Atlassian API tokens, Bitbucket app passwords
    r"|AT(?:ATT|CTT)[A-Za-z0-9_=+/-]{60,}|ATBB[A-Za-z0-9_=.-]{28,}",
    // Sourcegraph, Notion
    r"|sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}|ntn_[A-Za-z0-9]{40,50}",
    // Meta (Facebook, Instagram) access tokens; Square access tokens (EAAA)
    r"|EAA[A-Za-z0-9]{30,}",
    // 1Password secret keys and service account tokens
    r"|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}|ops_eyJ[A-Za-z0-9+/=_-]{40,}",
    // HashiCorp Vault service, batch and recovery tokens
    r"|hv[sbr]\.[A-Za-z0-9_-]{24,}",
    // Amazon Bedrock API keys
    r"|ABSK[A-Za-z0-9+/]{32,}={0,2}",
    // Grafana Cloud and service account tokens
    r"|glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
    // Square OAuth secrets and access tokens
    r"|sq0(?:csp|atp|idp)-[0-9A-Za-z_-]{22,43}",
    // A JWT encoded once more in base64 (`eyJ` becomes `ZXlK`)
    r"|ZXlK[A-Za-z0-9+/]{40,}={0,2}",
    // Google OAuth client secrets, access and refresh tokens
    r"|GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[0-9A-Za-z_-]{20,}|1//0[0-9A-Za-z_-]{40,}",
    // Sentry, New Relic, Heroku, Pulumi, Docker Hub, Figma
    r"|sntry[su]_[A-Za-z0-9+/=_-]{40,}|NRAK-[A-Z0-9]{27}|HRKU-[A-Za-z0-9_-]{36,}|pul-[a-f0-9]{40}|dckr_pat_[A-Za-z0-9_-]{27,}|figd_[A-Za-z0-9_-]{40,}",
    // Groq, Replicate, Perplexity, xAI, LangSmith, OpenRouter
    r"|gsk_[A-Za-z0-9]{48,56}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{48}|xai-[A-Za-z0-9]{70,90}|lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}|sk-or-v1-[a-f0-9]{64}",
    // age secret keys, Fly.io macaroons
    r"|AGE-SECRET-KEY-1[0-9A-Z]{58}|fm[12][ar]?_[A-Za-z0-9+/=_-]{40,}",
);

/// Twilio API key SIDs: `SK` and 32 hex digits. Apart from [`PATTERN`]
/// because its only literal, `sk`, occurs in much prose (`ask`, `task`):
/// this small pattern is cheap to run where the big one is not.
pub(crate) const TWILIO: &str = r"SK[0-9a-fA-F]{32}";

/// Literal prefixes of the alternatives of [`PATTERN`] (compared without
/// case by the prefilter).
pub(crate) const KEYWORDS: &[&str] = &[
    "hf_",
    "api_org_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glptt-",
    "glcbt-",
    "glimt-",
    "glft-",
    "glsoat-",
    "gloas-",
    "glwt-",
    "glffct-",
    "glagent-",
    "gr1348941",
    "npm_",
    "pypi-ag",
    "rubygems_",
    "dapi",
    "sg.",
    "sk",
    "key-",
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "lin_api_",
    "lin_oauth_",
    "dp.",
    "pmak-",
    "atatt",
    "atctt",
    "atbb",
    "sgp_",
    "ntn_",
    "eaa",
    "a3-",
    "ops_eyj",
    "hvs.",
    "hvb.",
    "hvr.",
    "absk",
    "glc_",
    "glsa_",
    "sq0",
    "zxlk",
    "gocspx-",
    "ya29.",
    "1//0",
    "sntrys_",
    "sntryu_",
    "nrak-",
    "hrku-",
    "pul-",
    "dckr_pat_",
    "figd_",
    "gsk_",
    "r8_",
    "pplx-",
    "xai-",
    "lsv2_",
    "sk-or-v1-",
    "age-secret-key-",
    "fm1",
    "fm2",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alternative_starts_with_a_keyword() {
        let regex = regex::Regex::new(PATTERN).unwrap_or_else(|e| panic!("{e}"));
        for sample in [
            "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
            "glpat-Ab3dEf6hIj9kLm2nOp5q",
            "npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d",
            "dapi0123456789abcdef0123456789abcdef",
            "A3-ABC123-DEF456-GHI78-JKL90-MNO12-PQR34",
            "hvs.CAESIAb3dEf6hIj9kLm2nOp5qRs8t",
            "sq0csp-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9",
        ] {
            let m = regex.find(sample).map(|m| m.as_str());
            assert_eq!(m, Some(sample));
            let lower = sample.to_ascii_lowercase();
            assert!(KEYWORDS.iter().any(|k| lower.starts_with(k)), "{sample}");
        }
    }
}
