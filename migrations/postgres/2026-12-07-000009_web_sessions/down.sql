DROP TABLE login_links;
DROP TABLE web_sessions;
