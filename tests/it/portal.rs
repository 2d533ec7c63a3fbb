//! The customer portal as the api function serves it: the page and its assets, their
//! caching, compression and security headers. (Its behaviour in a browser: `tests/portal`.)

use hookline_tests::Stack;

async fn get(base: &str, path: &str, accept_encoding: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .expect("request")
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn when_portal_is_asked_for_should_serve_the_page_uncached_under_a_strict_policy() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    for path in ["/portal/", "/portal", "/portal/index.html"] {
        let page = get(&base, path, "identity").await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&page, "cache-control"), "no-cache");
        let policy = header(&page, "content-security-policy").to_string();
        for directive in ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'self'"] {
            assert!(policy.contains(directive), "{directive} in {policy}");
        }
        assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
        assert_eq!(header(&page, "x-content-type-options"), "nosniff");
        assert!(page.text().await.expect("page").contains("/portal/assets/"), "{path} loads its hashed assets");
    }
}

#[tokio::test]
async fn when_an_asset_is_asked_for_should_cache_it_for_good_and_compress_it_when_accepted() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let page = get(&base, "/portal/", "identity").await.text().await.expect("page");
    let script = page
        .split('"')
        .find(|part| part.starts_with("/portal/assets/") && part.ends_with(".js"))
        .expect("a script under /portal/assets/")
        .to_string();

    let plain = get(&base, &script, "identity").await;
    assert_eq!(header(&plain, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&plain, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&plain, "content-encoding"), "");
    let plain = plain.bytes().await.expect("script");

    let brotli = get(&base, &script, "gzip, deflate, br").await;
    assert_eq!((header(&brotli, "content-encoding"), header(&brotli, "vary")), ("br", "accept-encoding"));
    let brotli = brotli.bytes().await.expect("brotli");
    let gzip = get(&base, &script, "gzip").await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    let gzip = gzip.bytes().await.expect("gzip");
    assert_eq!(&gzip[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        brotli.len() < plain.len() / 2 && gzip.len() < plain.len() / 2,
        "{} {} {}",
        plain.len(),
        brotli.len(),
        gzip.len()
    );

    let missing = get(&base, "/portal/assets/nothing-1234.js", "br").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "content-type"), "application/vnd.api+json");
}
