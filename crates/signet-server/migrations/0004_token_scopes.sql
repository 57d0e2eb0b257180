-- API tokens get scopes (read, sign, admin), narrowing what the owner's roles allow. Tokens made before keep all three, as they could do everything the owner could. No semicolons in comments.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,sign,admin'
