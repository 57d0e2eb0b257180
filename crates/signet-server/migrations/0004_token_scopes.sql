-- API tokens get scopes (read, sign, admin), narrowing what the owner's roles allow. Tokens made before keep what their owner could do: read and sign, and admin for administrators' tokens. No semicolons in comments.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,sign'
;
UPDATE api_tokens SET scopes = 'read,sign,admin' WHERE user_id IN (SELECT id FROM users WHERE roles LIKE '%admin%')
