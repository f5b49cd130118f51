package redact

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fake secrets, assembled at run time so that no scanner mistakes this file
// for a leak.
var (
	awsKeyID     = "AKIA" + "IOSFODNN7EXAMPLE"
	awsSTSKeyID  = "ASIA" + "Y3FJKL2MNOP4QRST"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	ghClassic    = "ghp_" + "1234567890abcdefghijKLMNOPQRSTuvwxyz"
	ghOAuth      = "gho_" + "16C7e42F292c6912E7710c838347Ae178B4a"
	ghUser       = "ghu_" + "16C7e42F292c6912E7710c838347Ae178B4a"
	ghServer     = "ghs_" + "16C7e42F292c6912E7710c838347Ae178B4a"
	ghRefresh    = "ghr_" + "1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"
	ghFine       = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	anthropicKey = "sk-ant-" + "api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcDEF"
	openaiLegacy = "sk-" + "AbCdEfGhIjKlMnOpQrStT3BlbkFJuVwXyZ0123456789ab"
	openaiProj   = "sk-proj-" + "Ab12Cd34Ef56Gh78Ij90_Kl-Mn12Op34Qr56"
	slackBot     = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	slackUser    = "xoxp-" + "123456789012-123456789012-123456789012-abcdef0123456789abcdef0123456789"
	slackApp     = "xapp-" + "1-A0123456789-1234567890123-abcdef0123456789"
	jwt          = "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	pemKey       = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yPdV0Zx7lq3AbCdEf==\n-----END RSA " + "PRIVATE KEY-----"
	opensshKey   = "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH " + "PRIVATE KEY-----"
	bearerTok    = "abcDEF123456ghiJKL789mnoPQR"
	password     = "hunter2-Tr0ub4dor"
	stripeLive   = "sk_live_" + "51HxYzAbCdEfGhIjKlMnOpQrStUv"
	stripeRest   = "rk_live_" + "51HxYzAbCdEfGhIjKlMnOpQrStUv"
	stripeTest   = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
	googleKey    = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
	azureKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu" + "Fq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	noDigitTok   = "abcdefghijklmnopqrstuv"
	cmdPassword  = "S3cr3tPw-9x"
)

// secretCase plants one secret in surrounding text; the secret must vanish,
// the marker must appear and the surrounding words must survive.
type secretCase struct {
	name   string
	text   string // contains secret
	secret string
	kind   string
	keep   []string // surrounding text that must survive
}

func secretCases() []secretCase {
	return []secretCase{
		{"pem rsa", "key file:\n" + pemKey + "\nend of file", "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn", "private_key", []string{"key file:", "end of file"}},
		{"pem openssh", "cat ~/.ssh/id: " + opensshKey + " done", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE", "private_key", []string{"cat ~/.ssh/id:", " done"}},
		{"pem json escaped", `{"private_key": "` + strings.ReplaceAll(pemKey, "\n", `\n`) + `", "client_email": "x@y.iam"}`, "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn", "private_key", []string{`"client_email": "x@y.iam"`}},
		{"pem unterminated", "head of output\n" + pemKey[:120], "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn", "private_key", []string{"head of output"}},
		{"aws key id", "export AWS_ACCESS_KEY_ID=" + awsKeyID + " && aws s3 ls", awsKeyID, "aws_access_key_id", []string{"export AWS_ACCESS_KEY_ID=", "&& aws s3 ls"}},
		{"aws sts key id", "id " + awsSTSKeyID + ".", awsSTSKeyID, "aws_access_key_id", []string{"id ", "."}},
		{"aws secret", "[default]\naws_secret_access_key = " + awsSecret + "\nregion = eu-west-1", awsSecret, "aws_secret_access_key", []string{"aws_secret_access_key = ", "region = eu-west-1"}},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=" + awsSecret + " terraform apply", awsSecret, "aws_secret_access_key", []string{"terraform apply"}},
		{"github classic", "git clone https://github.com/x/y # token " + ghClassic + " ok", ghClassic, "github", []string{"git clone https://github.com/x/y", " ok"}},
		{"github oauth", "t=" + ghOAuth, ghOAuth, "github", nil},
		{"github user", "(" + ghUser + ")", ghUser, "github", []string{"(", ")"}},
		{"github server", ghServer + " is set", ghServer, "github", []string{" is set"}},
		{"github refresh", "refresh " + ghRefresh, ghRefresh, "github", []string{"refresh "}},
		{"github fine-grained", "gh auth login --with-token <<< " + ghFine, ghFine, "github", []string{"gh auth login --with-token <<< "}},
		{"anthropic", "ANTHROPIC_API_KEY=" + anthropicKey + " claude -p hi", anthropicKey, "anthropic", []string{"claude -p hi"}},
		{"openai legacy", "client = OpenAI(api_key='" + openaiLegacy + "')", openaiLegacy, "openai", []string{"client = OpenAI(api_key='"}},
		{"openai project", "key: " + openaiProj + "\n", openaiProj, "openai", []string{"key: "}},
		{"slack bot", "SLACK=" + slackBot + " ./notify", slackBot, "slack", []string{" ./notify"}},
		{"slack user", "token " + slackUser, slackUser, "slack", []string{"token "}},
		{"slack app", slackApp + " app-level", slackApp, "slack", []string{" app-level"}},
		{"slack webhook", "curl -X POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX -d '{}'", "XXXXXXXXXXXXXXXXXXXXXXXX", "slack", []string{"curl -X POST ", " -d '{}'"}},
		{"jwt", "cookie session=" + jwt + "; path=/", jwt, "jwt", []string{"cookie session=", "; path=/"}},
		{"authorization header", `curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" https://api.example.com/v1`, "dXNlcjpwYXNzd29yZA==", "authorization", []string{`curl -H "Authorization: `, `" https://api.example.com/v1`}},
		{"authorization json", `{"headers": {"Authorization": "Token abcdef0123456789"}, "url": "/x"}`, "abcdef0123456789", "authorization", []string{`"url": "/x"`}},
		{"proxy authorization", "Proxy-Authorization: Digest u=1 r=9f8e7d\r\nHost: x", "9f8e7d", "authorization", []string{"Host: x"}},
		{"authorization scheme and token", "Authorization: Bearer " + bearerTok + " sent", bearerTok, "authorization", []string{"Authorization: ", " sent"}},
		{"authorization aws sigv4", "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024\n", "fe5f80f77d5fa3beca038a248ff027", "authorization", []string{"Authorization: "}},
		{"bearer", "the request carried Bearer " + bearerTok + " and failed", bearerTok, "bearer", []string{"the request carried Bearer ", " and failed"}},
		{"url password", "psql postgres://app:" + password + "@db.internal:5432/prod -c 'select 1'", password, "url_password", []string{"psql postgres://app:", "@db.internal:5432/prod -c 'select 1'"}},
		{"password pair", "mysql -u root password=" + password + " mydb", password, "password", []string{"mysql -u root password=", " mydb"}},
		{"passwd pair", "PASSWD=" + password, password, "password", []string{"PASSWD="}},
		{"secret pair", "client_secret=" + password + "&grant_type=client_credentials", password, "secret", []string{"client_secret=", "&grant_type=client_credentials"}},
		{"token pair", "https://example.com/cb?access_token=" + password + "&state=1", password, "token", []string{"https://example.com/cb?access_token=", "&state=1"}},
		{"api_key pair", "API_KEY=" + password + " npm start", password, "api_key", []string{" npm start"}},
		{"apikey pair", "apikey: " + password, password, "api_key", []string{"apikey: "}},
		{"json password", `{"user": "bob", "password": "` + password + `", "port": 5432}`, password, "password", []string{`{"user": "bob", "password": "`, `", "port": 5432}`}},
		{"json password spaces", `{"password":"correct horse battery staple"}`, "correct horse battery staple", "password", []string{`{"password":"`}},
		{"escaped json password", `{"command":"curl -d '{\"password\": \"` + password + `\"}' http://x"}`, password, "password", []string{`{"command":"curl -d '{\"password\": \"`, `http://x"}`}},
		{"yaml password", "db:\n  user: app\n  password: " + password + "\n  host: db", password, "password", []string{"  user: app\n", "\n  host: db"}},
		{"env quoted", `export DB_PASSWORD="` + password + `"`, password, "password", []string{`export DB_PASSWORD="`}},
		{"single quoted", `token='` + password + `'`, password, "token", []string{`token='`}},
		{"flag password", "mysql --password " + password + " -h db", password, "password", []string{"mysql --password ", " -h db"}},

		// Issue 12, item 5: leaks found by an adversarial pass.
		{"aws secret space", "aws configure set aws_secret_access_key " + awsSecret + " --profile prod", awsSecret, "aws_secret_access_key", []string{"aws configure set aws_secret_access_key ", " --profile prod"}},
		{"aws secret space quoted", `aws configure set aws_secret_access_key "` + awsSecret + `"`, awsSecret, "aws_secret_access_key", []string{"aws configure set aws_secret_access_key "}},
		{"url password slash", "git clone https://deploy:Tr0ub/4dor@git.example.com/r.git", "Tr0ub/4dor", "url_password", []string{"git clone https://deploy:", "@git.example.com/r.git"}},
		{"url password dollar", "psql postgres://u:$ecret99@db/x -c 'select 1'", "$ecret99", "url_password", []string{"psql postgres://u:", "@db/x -c 'select 1'"}},
		{"url password at", "curl https://u:p@ssw0rd9@host.example/x?a=b@c", "ssw0rd9", "url_password", []string{"curl https://u:", "@host.example/x?a=b@c"}},
		{"url password empty user", "redis-cli -u redis://:" + password + "@cache:6379/0 ping", password, "url_password", []string{"redis-cli -u redis://:", "@cache:6379/0 ping"}},
		{"password parens", "PASSWORD=Tr0ub(4)dor ./run", "Tr0ub(4)dor", "password", []string{"PASSWORD=", " ./run"}},
		{"password braces", "password=hunter{2}x mydb", "hunter{2}x", "password", []string{"password=", " mydb"}},
		{"password dollar", "password=$ecretPa55 mydb", "$ecretPa55", "password", []string{"password=", " mydb"}},
		{"password star", "password=*Tr0ub4dor* mydb", "*Tr0ub4dor*", "password", []string{"password=", " mydb"}},
		{"json password parens", `{"password": "p(a)ss{w}0rd", "port": 1}`, "p(a)ss{w}0rd", "password", []string{`{"password": "`, `", "port": 1}`}},
		{"passphrase words", "gpg:\n  passphrase: correct horse battery staple\n  key: 0xABCD", "horse battery staple", "password", []string{"  passphrase: ", "  key: 0xABCD"}},
		{"passphrase line", "passphrase = correct horse battery staple\nnext", "battery staple", "password", []string{"passphrase = ", "\nnext"}},
		{"passphrase flag", "gpg --batch --passphrase " + cmdPassword + " -d secrets.gpg", cmdPassword, "password", []string{"gpg --batch --passphrase ", " -d secrets.gpg"}},
		{"authorization bearer no digits", "Authorization: Bearer " + noDigitTok, noDigitTok, "authorization", []string{"Authorization: "}},
		{"bearer no digits", "X-Upstream: Bearer " + noDigitTok + " (forwarded)", noDigitTok, "bearer", []string{"X-Upstream: Bearer ", " (forwarded)"}},
		{"mysql -p", "mysql -h db -uroot -p" + cmdPassword + " shop -e 'select 1'", cmdPassword, "password", []string{"mysql -h db -uroot -p", " shop -e 'select 1'"}},
		{"mysql -p first", "mysql -p" + cmdPassword, cmdPassword, "password", []string{"mysql -p"}},
		{"mysqldump -p quoted", "mysqldump -u app -p'" + cmdPassword + " x' app > dump.sql", cmdPassword + " x", "password", []string{"mysqldump -u app -p'", "' app > dump.sql"}},
		{"mariadb in docker", `docker exec -i db mariadb -uroot -p"` + cmdPassword + `" -e 'show databases'`, cmdPassword, "password", []string{`docker exec -i db mariadb -uroot -p"`, `" -e 'show databases'`}},
		{"mysql --password=", "mysql --user=root --password=" + cmdPassword + " shop", cmdPassword, "password", []string{"mysql --user=root --password=", " shop"}},
		{"curl -u", "curl -u alice:" + cmdPassword + " https://api.example.com/v1", cmdPassword, "password", []string{"curl -u alice:", " https://api.example.com/v1"}},
		{"curl --user quoted", "curl -fsSL --user 'alice:" + cmdPassword + " x' https://x.example", cmdPassword + " x", "password", []string{"curl -fsSL --user 'alice:", "' https://x.example"}},
		{"curl -u double quoted", `curl -u "alice:` + cmdPassword + `" https://x.example`, cmdPassword, "password", []string{`curl -u "alice:`, `" https://x.example`}},
		{"curl -u cluster", "curl -su bob:" + cmdPassword + " https://x.example", cmdPassword, "password", []string{"curl -su bob:", " https://x.example"}},
		{"sshpass -p", "sshpass -p " + cmdPassword + " ssh -p 2222 deploy@host", cmdPassword, "password", []string{"sshpass -p ", " ssh -p 2222 deploy@host"}},
		{"sshpass -p attached", "sshpass -v -p'" + cmdPassword + "' scp a host:b", cmdPassword, "password", []string{"sshpass -v -p'", "' scp a host:b"}},
		{"docker login -p", "docker login -u bob -p " + cmdPassword + " registry.example.com", cmdPassword, "password", []string{"docker login -u bob -p ", " registry.example.com"}},
		{"docker login -p attached", "podman login -p" + cmdPassword + " quay.io", cmdPassword, "password", []string{"podman login -p", " quay.io"}},
		{"docker login --password", "docker login --password " + cmdPassword + " registry.example.com", cmdPassword, "password", []string{"docker login --password ", " registry.example.com"}},
		{"cookie header", "curl -H 'Cookie: session=" + cmdPassword + "; csrftoken=abc' https://x.example", cmdPassword, "cookie", []string{"curl -H 'Cookie: ", "' https://x.example"}},
		{"cookie header csrf", "Cookie: session=abc; csrftoken=" + cmdPassword + "\r\nHost: x", cmdPassword, "cookie", []string{"Cookie: ", "\r\nHost: x"}},
		{"set-cookie header", "HTTP/1.1 200 OK\nSet-Cookie: sid=" + cmdPassword + "; Path=/; HttpOnly\nContent-Length: 0", cmdPassword, "cookie", []string{"Set-Cookie: ", "\nContent-Length: 0"}},
		{"cookie json", `{"headers": {"Cookie": "sid=` + cmdPassword + `"}, "url": "/x"}`, cmdPassword, "cookie", []string{`{"headers": {"Cookie": "`, `"}, "url": "/x"}`}},
		{"curl --cookie", "curl --cookie 'sid=" + cmdPassword + "' https://x.example", cmdPassword, "cookie", []string{"curl --cookie '", "' https://x.example"}},
		{"stripe live", "STRIPE_KEY=" + stripeLive + " node server.js", stripeLive, "stripe", []string{" node server.js"}},
		{"stripe restricted", "key " + stripeRest + ".", stripeRest, "stripe", []string{"key ", "."}},
		{"stripe test in curl -u", "curl https://api.stripe.com/v1/charges -u " + stripeTest + ": -d amount=2000", stripeTest, "stripe", []string{"curl https://api.stripe.com/v1/charges -u ", ": -d amount=2000"}},
		{"google api key", "https://maps.googleapis.com/maps/api/geocode/json?address=x&key=" + googleKey + "&z=1", googleKey, "google_api_key", []string{"https://maps.googleapis.com/maps/api/geocode/json?address=x&key=", "&z=1"}},
		{"google api key json", `{"apiKey2": "` + googleKey + `"}`, googleKey, "google_api_key", []string{`{"apiKey2": "`, `"}`}},
		{"azure account key", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + azureKey + ";EndpointSuffix=core.windows.net", azureKey, "azure_key", []string{"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=", ";EndpointSuffix=core.windows.net"}},
		{"azure shared access key", "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + azureKey[:44] + ";EntityPath=q", azureKey[:44], "azure_key", []string{"SharedAccessKeyName=Root;SharedAccessKey=", ";EntityPath=q"}},
		{"openssl pass:", "openssl pkcs12 -in a.p12 -passin pass:" + cmdPassword + " -nodes", cmdPassword, "password", []string{"openssl pkcs12 -in a.p12 -passin pass:", " -nodes"}},
	}
}

func TestCleanRedactsEachKind(t *testing.T) {
	var nilR *Redactor
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range secretCases() {
		for _, red := range []*Redactor{nilR, r} {
			t.Run(tc.name, func(t *testing.T) {
				if !strings.Contains(tc.text, tc.secret) {
					t.Fatalf("bad case: text lacks the secret")
				}
				got := red.Clean(tc.text, 0)
				if strings.Contains(got, tc.secret) {
					t.Errorf("secret survived:\n in: %q\nout: %q", tc.text, got)
				}
				if want := "[REDACTED:" + tc.kind + "]"; !strings.Contains(got, want) {
					t.Errorf("no %s marker:\n in: %q\nout: %q", want, tc.text, got)
				}
				for _, k := range tc.keep {
					if !strings.Contains(got, k) {
						t.Errorf("lost surrounding text %q:\nout: %q", k, got)
					}
				}
			})
		}
	}
}

// Tool input and results are redacted as JSON text, where a line starts
// after an escaped newline ("\n"): a token there is at a word start.
func TestJSONEscapedLines(t *testing.T) {
	var r *Redactor
	for _, tc := range secretCases() {
		switch tc.name {
		case "pem unterminated": // its cut-off block ends the text
			continue
		case "escaped json password": // JSON in JSON in JSON
			continue
		}
		j, err := json.Marshal(map[string]string{"stdout": "line one\n" + tc.text + "\n\tnext"})
		if err != nil {
			t.Fatal(err)
		}
		enc, _ := json.Marshal(tc.secret)
		secret := string(enc[1 : len(enc)-1])
		got := r.Clean(string(j), 0)
		if strings.Contains(got, secret) {
			t.Errorf("%s: secret survived in JSON:\n in: %s\nout: %s", tc.name, j, got)
		}
	}
	// After a tab, and not after an escaped backslash and a letter n.
	in := `{"a":"x\t` + ghClassic + `","b":"C:\\n` + ghClassic + `"}`
	want := `{"a":"x\t[REDACTED:github]","b":"C:\\n` + ghClassic + `"}`
	if got := r.Clean(in, 0); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Ordinary code and prose must come through unchanged.
func TestCleanLeavesOrdinaryTextAlone(t *testing.T) {
	texts := []string{
		"go test ./... -run TestUpload -count=1",
		"max_tokens=1024 input_tokens: 231 output_tokens=8",
		`{"usage":{"input_tokens":9,"cache_creation_input_tokens":5061,"output_tokens":231}}`,
		"tok := lexer.Next()\ntoken := tok.Value\nif token == \"\" { return }",
		"password := os.Getenv(\"DB_PASSWORD\")",
		"token = self.tokenizer.encode(text)",
		"secret_key = settings.get(\"SECRET_KEY\")",
		"api_key: ${{ secrets.API_KEY }}",
		"export GITHUB_TOKEN=$GH_TOKEN",
		`{"password": null, "token": true}`,
		"We use a bearer token in the Authorization header for authentication.",
		"The task-manager-service-handler restarts the disk-cleanup-worker-process.",
		"scikit-learn: sk-learn-compatible-estimator-wrapper-for-pipelines",
		"Slovakia and Asia are on the map; AKIA alone is no key.",
		"func (r *Redactor) Clean(s string, max int) string {",
		"/home/dev/app/src/upload_client.ts",
		"https://github.com/ccotel/ccotel/pull/42#discussion_r123",
		"ssh -i ~/.ssh/id_ed25519 git@github.com",
		"grep -rn 'private key' docs/",
		"eyJ is how base64 JSON starts",
		"git log --oneline | head -20 && npm run build",
		"SELECT id, name FROM users WHERE created_at > now() - interval '1 day';",
		"日本語のテキスト、パスワードなし",
		// Flags that look like the new command-line kinds but are not.
		"ls -p /tmp && grep -p foo bar.txt && mkdir -p src/app",
		"mysql -h db.internal -P 3306 -u root -p",
		"mysql -h db -u app -p appdb",
		"mysql -u root -p -e 'show databases'",
		"gcc $(mysql_config --cflags) -pthread main.c",
		"mysql -u root -p$MYSQL_ROOT_PASSWORD shop",
		"docker run -u 1000:1000 -p 8080:80 nginx",
		"docker run -p 5432:5432 postgres:16",
		"docker login -u bob --password-stdin registry.example.com",
		"ssh -p 2222 deploy@host && scp -P 2222 a host:b",
		"sshpass -f ~/.pw ssh -p 2222 deploy@host",
		"curl -fsSL https://example.com/install.sh | sh",
		`curl --user-agent "Mozilla/5.0 (X11; Linux x86_64)" https://x.example`,
		"curl -u alice https://api.example.com",
		`curl -u "$USER:$PASS" https://api.example.com`,
		"npm view @types/node --registry https://registry.npmjs.org:443/@types/node",
		"open http://localhost:3000/users/@me and https://example.com:8443/path/@scope/pkg",
		"http://[::1]:8080/@x",
		"curl 'http://localhost:8080?notify=ops@example.com' and http://host:9000#a@b",
		`document.cookie = "theme=dark"; res.cookie('sid', token)`,
		"The Cookie header carries the session; see Set-Cookie in RFC 6265.",
		"cookie: string;",
		"headers: { Cookie: `${session}` }",
		"Cookie: $COOKIE",
		"Bearer authentication is described in RFC 6750.",
		`{"token_type": "Bearer", "expires_in": 3600}`,
		"Authorization: Bearer ${ACCESS_TOKEN}",
		`curl -H "Authorization: Bearer $(gcloud auth print-access-token)" https://x.example`,
		"passphrase: ${{ secrets.GPG_PASSPHRASE }}",
		"password=$DB_PASSWORD ./run",
		"password: ******",
		"password = getpass()",
		`api_key = os.environ.get("API_KEY")`,
		"tests/sk_test_helpers.py and AIzaWord are not keys",
		"the AccountKey field of a storage connection string",
		"openssl rand -hex 32 -out key.bin",
	}
	var r *Redactor
	for _, s := range texts {
		if got := r.Clean(s, 0); got != s {
			t.Errorf("changed ordinary text:\n in: %q\nout: %q", s, got)
		}
	}
}

func TestUserPatterns(t *testing.T) {
	r, err := New([]string{`ACME-[0-9]{6}`, "", `(?i)internal\.corp\.example`})
	if err != nil {
		t.Fatal(err)
	}
	got := r.Clean("ticket ACME-123456 on Internal.corp.example/x and "+ghClassic, 0)
	want := "ticket [REDACTED:custom] on [REDACTED:custom]/x and [REDACTED:github]"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := New([]string{"ok", "(unclosed"}); err == nil || !strings.Contains(err.Error(), "pattern 2") {
		t.Errorf("bad pattern: err = %v, want one naming pattern 2", err)
	}
}

func TestCleanCaps(t *testing.T) {
	var r *Redactor
	if got := r.Clean("short", 100); got != "short" {
		t.Errorf("short: %q", got)
	}
	s := strings.Repeat("a", 200)
	got := r.Clean(s, 100)
	marker := "…[truncated, 200 bytes]"
	if len(got) != 100 || !strings.HasSuffix(got, marker) || got != strings.Repeat("a", 100-len(marker))+marker {
		t.Errorf("cap 100 of 200: len %d %q", len(got), got)
	}
	// Multi-byte runes are never split.
	u := strings.Repeat("é", 100) // 200 bytes
	for max := 30; max < 60; max++ {
		got := r.Clean(u, max)
		if !utf8.ValidString(got) || len(got) > max {
			t.Fatalf("max %d: invalid or too long (%d): %q", max, len(got), got)
		}
	}
	// Tiny caps: a bare cut, still within max.
	if got := r.Clean(u, 5); got != "éé" {
		t.Errorf("max 5: %q", got)
	}
	// Invalid UTF-8 is repaired.
	if got := r.Clean("ok\xff\xfe", 0); !utf8.ValidString(got) || !strings.HasPrefix(got, "ok") {
		t.Errorf("invalid utf-8: %q", got)
	}
}

// A secret is redacted before the cap: a key cut in half by the cap must not
// leak its first half.
func TestCapAfterRedaction(t *testing.T) {
	var r *Redactor
	s := strings.Repeat("x", 50) + " " + ghClassic + " " + strings.Repeat("y", 50)
	for max := 40; max < len(s)+5; max++ {
		got := r.Clean(s, max)
		if strings.Contains(got, "ghp_") || strings.Contains(got, ghClassic[4:14]) {
			t.Fatalf("max %d leaked part of a token: %q", max, got)
		}
		if len(got) > max {
			t.Fatalf("max %d: len %d", max, len(got))
		}
	}
}

// Very long inputs are pre-cut before redaction; a secret straddling the
// pre-cut, or an unterminated key block, must not leak.
func TestHugeInput(t *testing.T) {
	var r *Redactor
	max := 4096
	for _, at := range []int{max - 10, max + precutMargin - 20, max + precutMargin - 2000, max + precutGuard} {
		s := strings.Repeat("z", at) + ghClassic + strings.Repeat("w", 5<<20)
		got := r.Clean(s, max)
		if strings.Contains(got, "ghp_1234") || len(got) > max {
			t.Errorf("token at %d: leaked or too long (%d)", at, len(got))
		}
		if !strings.HasSuffix(got, "bytes]") {
			t.Errorf("token at %d: no truncation marker", at)
		}
	}
	// A key block early, followed by megabytes: redacted, then capped.
	s := "out: " + pemKey + strings.Repeat("q", 3<<20)
	got := r.Clean(s, max)
	if strings.Contains(got, "MIIEow") || !strings.Contains(got, "[REDACTED:private_key]") || len(got) > max {
		t.Errorf("huge with key: %q…", got[:80])
	}
	// Many redactions shrink the text so that the margin's tail would come
	// into view; it must not.
	var b strings.Builder
	for b.Len() < max+precutMargin+1000 {
		b.WriteString(pemKey)
	}
	b.WriteString(strings.Repeat("v", 1<<20))
	if got := r.Clean(b.String(), max); strings.Contains(got, "MIIEow") || len(got) > max {
		t.Errorf("many keys: leaked or too long")
	}
}

func TestKinds(t *testing.T) {
	ks := strings.Join(Kinds(), ",")
	for _, k := range []string{"private_key", "aws_access_key_id", "aws_secret_access_key", "github", "anthropic", "openai", "slack", "jwt", "authorization", "bearer", "password", "token", "secret", "api_key",
		"stripe", "google_api_key", "azure_key", "cookie"} {
		if !strings.Contains(ks, k) {
			t.Errorf("Kinds() lacks %s: %s", k, ks)
		}
	}
}

func BenchmarkCleanNoSecret(b *testing.B) {
	s := strings.Repeat("go test ./pkg/upload -run TestRetry # ordinary output line\n", 64)
	var r *Redactor
	r.Clean(s, 4096)
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for b.Loop() {
		r.Clean(s, 4096)
	}
}

func BenchmarkCleanWithSecret(b *testing.B) {
	s := strings.Repeat("curl -H 'Authorization: Bearer "+bearerTok+"' https://x\n", 64)
	var r *Redactor
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		r.Clean(s, 4096)
	}
}

// markerProblem returns "" when every "REDACTED" in out belongs to a whole
// marker "[REDACTED:<kind>]" (kind: a-z and '_'), or else what is wrong.
func markerProblem(out string) string {
	for i := 0; ; {
		j := strings.Index(out[i:], "REDACTED")
		if j < 0 {
			return ""
		}
		at := i + j
		if at == 0 || out[at-1] != '[' || !strings.HasPrefix(out[at:], "REDACTED:") {
			return "stray REDACTED at " + strconv.Itoa(at)
		}
		k := at + len("REDACTED:")
		n := 0
		for k+n < len(out) && ('a' <= out[k+n] && out[k+n] <= 'z' || out[k+n] == '_') {
			n++
		}
		if n == 0 || k+n >= len(out) || out[k+n] != ']' {
			return "malformed marker at " + strconv.Itoa(at-1)
		}
		i = k + n
	}
}

// Overlapping rules (a token in a URL's user name, a Stripe key as curl's
// user) must leave whole markers, never one inside another.
func TestMarkersNeverNest(t *testing.T) {
	cases := []struct{ in, want string }{
		{"git clone https://" + ghClassic + ":x-oauth-basic@github.com/o/r.git",
			"git clone https://[REDACTED:github]:[REDACTED:url_password]@github.com/o/r.git"},
		{"git push https://x-access-token:" + ghServer + "@github.com/o/r",
			"git push https://x-access-token:[REDACTED:github]@github.com/o/r"},
		{"curl https://api.stripe.com/v1/charges -u " + stripeTest + ":" + cmdPassword + " -d a=1",
			"curl https://api.stripe.com/v1/charges -u [REDACTED:stripe]:[REDACTED:password] -d a=1"},
		{"curl -u " + ghClassic + ":x https://x.example",
			"curl -u [REDACTED:github]:[REDACTED:password] https://x.example"},
		{"https://" + jwt + ":pw12@host/x",
			"https://[REDACTED:jwt]:[REDACTED:url_password]@host/x"},
	}
	var r *Redactor
	for _, c := range cases {
		got := r.Clean(c.in, 0)
		if got != c.want {
			t.Errorf("\n in: %q\ngot: %q\nwant %q", c.in, got, c.want)
		}
		if p := markerProblem(got); p != "" {
			t.Errorf("%s: %q", p, got)
		}
	}
}

// Redacting redacted text changes nothing, and leaves whole markers.
func TestCleanIdempotent(t *testing.T) {
	var texts []string
	for _, tc := range secretCases() {
		texts = append(texts, tc.text)
	}
	texts = append(texts,
		"https://[REDACTED:github]:pw@host",
		"Authorization: [REDACTED:authorization] sent",
		"password=[REDACTED:password] and token: [REDACTED:token]",
		"[REDACTED:[REDACTED:url_password]@github.com",
	)
	var r *Redactor
	for _, s := range texts {
		once := r.Clean(s, 0)
		if twice := r.Clean(once, 0); twice != once {
			t.Errorf("not idempotent:\n in: %q\n 1x: %q\n 2x: %q", s, once, twice)
		}
		if !strings.Contains(s, "REDACTED") {
			if p := markerProblem(once); p != "" {
				t.Errorf("%s:\n in: %q\nout: %q", p, s, once)
			}
		}
	}
}

// A user pattern never cuts into a marker, and one that can match the empty
// string inserts nothing.
func TestUserPatternsRespectMarkers(t *testing.T) {
	r, err := New([]string{`ACTED`, `x*`, `b\S+`})
	if err != nil {
		t.Fatal(err)
	}
	in := "t " + ghClassic + " ok"
	got := r.Clean(in, 0)
	if got != "t [REDACTED:github] ok" {
		t.Errorf("got %q", got)
	}
	if got := r.Clean("a bc", 0); got != "a [REDACTED:custom]" {
		t.Errorf("got %q", got)
	}
}

// BenchmarkCleanCode is a 4 KiB capture of source code and commands full of
// trigger words (token, password, mysql, curl, cookie, bearer, ://) with no
// secret: the cost a Read or Bash result at content level pays.
func BenchmarkCleanCode(b *testing.B) {
	benchmarkClean(b, codeCapture())
}

// BenchmarkCleanCodeJSON is the same capture as a tool result at content
// level: one JSON string, a single line with escaped newlines.
func BenchmarkCleanCodeJSON(b *testing.B) {
	j, err := json.Marshal(map[string]string{"stdout": codeCapture()})
	if err != nil {
		b.Fatal(err)
	}
	benchmarkClean(b, string(j[:4096]))
}

func codeCapture() string {
	chunk := `tok := lexer.Next() // token stream
if cfg.Password == "" { return errors.New("password required") }
req.Header.Set("Authorization", "Bearer "+token)
curl -fsSL https://example.com/install.sh | sh; mysql -h db -u app -p appdb
docker run -p 8080:80 nginx && docker login -u bob --password-stdin
document.cookie = "theme=dark"; secret_key = settings.get("SECRET_KEY")
`
	return strings.Repeat(chunk, 4096/len(chunk)+1)[:4096]
}

func benchmarkClean(b *testing.B, s string) {
	var r *Redactor
	r.Clean(s, 4096)
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for b.Loop() {
		r.Clean(s, 4096)
	}
}
