"""The real Compliance Logs Platform (`shared/contracts/chatgpt-admin-api.md`):
`CONVERSATION_MESSAGE` and `APP_LOG` files, the poller, its normalizer and the plugin skills
learned from `skills_used`."""
