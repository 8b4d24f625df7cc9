"""The project's one OpenAI HTTP client (`client`), its typed errors (`errors`) and the
endpoints it calls (`endpoints`). No other module builds OpenAI URLs."""
