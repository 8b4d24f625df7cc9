def test_pages_carry_a_content_security_policy_and_no_framing(client, db):
    # when
    response = client.get("/admin/login/")

    # then
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
