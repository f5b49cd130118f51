package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

// Issue 18, item 5: secrets that leaked at details and content, and the
// shapes of assignment they stand for. Fake values, assembled at run time.
var (
	slackXoxc    = "xoxc-" + "1234567890123-1234567890123-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	slackXoxd    = "xoxd-" + "AbCdEf%2BGhIjKl%2FMnOpQr%3D%3D"
	openaiNone   = "sk-None-" + "AbCdEfGhIjKlMnOpQrStT3BlbkFJuVwXyZ0123456789"
	openaiSvc    = "sk-svcacct-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
	awsSession   = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "EXAMPLEsessionTOKEN0123456789abcdef=="
	jwe          = "eyJ" + "hbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg" + ".48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ"
	envSecret    = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="
	signingKey   = "my-super-secret-signing-key"
	mailgunKey   = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
	adminPass    = "Tr0ub4dor&3"
	kubeKeyData  = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB"
	innerPwB64   = "aHVudGVyMi1UcjB1YjRkb3I="
	flagSecret   = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
	dockerAuth   = "dXNlcjpUcjB1YjRkb3ItaHVudGVyMg=="
	licenseValue = "ABCD-1234-EFGH-5678-IJKL"
)

// kubectlSecretJSON is `kubectl get secret -o json`'s output as a tool
// result: the last-applied annotation holds the secret's JSON as a string
// (escaped once), inside the output (escaped again), inside the tool
// result's JSON (a third time).
func kubectlSecretJSON() string {
	applied, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret",
		"stringData": map[string]string{"password": password}, "data": map[string]string{"password": innerPwB64}})
	out, _ := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"annotations": map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(applied)}}}, "", "    ")
	res, _ := json.Marshal(map[string]string{"stdout": string(out)})
	wrapped, _ := json.Marshal(map[string]string{"tool_response": string(res)})
	return string(wrapped)
}

func leakCases() []secretCase {
	return []secretCase{
		{"slack xoxc", "SLACK_TOKEN " + slackXoxc + " ok", slackXoxc, "slack", []string{" ok"}},
		{"slack xoxd cookie value", "d=" + slackXoxd + " ;", slackXoxd, "slack", []string{"d=", " ;"}},
		{"openai sk-None", "OPENAI=" + openaiNone + " python app.py", openaiNone, "openai", []string{" python app.py"}},
		{"openai sk-svcacct", "key " + openaiSvc + ".", openaiSvc, "openai", []string{"key ", "."}},
		{"aws configure session token", "aws configure set aws_session_token " + awsSession + " --profile prod", awsSession, "aws_session_token", []string{"aws configure set aws_session_token ", " --profile prod"}},
		{"aws --session-token", "aws sts get-caller-identity --session-token " + awsSession + " --region eu-west-1", awsSession, "token", []string{"--session-token ", " --region eu-west-1"}},
		{"aws session token env", "export AWS_SESSION_TOKEN=" + awsSession, awsSession, "aws_session_token", []string{"export AWS_SESSION_TOKEN="}},
		{"env ENCRYPTION_KEY", "APP_ENV=prod\nENCRYPTION_KEY=" + envSecret + "\nDEBUG=false", envSecret, "api_key", []string{"APP_ENV=prod\nENCRYPTION_KEY=", "\nDEBUG=false"}},
		{"env JWT_SIGNING_KEY", "JWT_SIGNING_KEY=" + signingKey + "\nPORT=8080", signingKey, "api_key", []string{"JWT_SIGNING_KEY=", "\nPORT=8080"}},
		{"env MAILGUN_KEY", "MAILGUN_KEY=" + mailgunKey, mailgunKey, "api_key", []string{"MAILGUN_KEY="}},
		{"env ADMIN_PASS", "ADMIN_USER=root\nADMIN_PASS=" + adminPass + "\n", adminPass, "password", []string{"ADMIN_USER=root\nADMIN_PASS=", "\n"}},
		{"kubeconfig client-key-data", "users:\n- name: admin\n  user:\n    client-certificate-data: LS0tCERT\n    client-key-data: " + kubeKeyData + "\n", kubeKeyData, "private_key", []string{"client-certificate-data: LS0tCERT", "    client-key-data: "}},
		{"jwe", "token=" + jwe + " end", jwe, "jwt", []string{" end"}},
		{"jwe bare", "Authorization header had " + jwe + " in it", "48V1_ALb6US04U3b", "jwt", []string{" in it"}},
		{"kubectl last-applied triple escaped", kubectlSecretJSON(), password, "password", []string{"last-applied-configuration"}},
		{"kubectl last-applied base64 data", kubectlSecretJSON(), innerPwB64, "password", []string{"apiVersion"}},
		{"flag --client-secret", "az login --service-principal -u app --client-secret " + flagSecret + " --tenant t", flagSecret, "secret", []string{"--client-secret ", " --tenant t"}},
		{"flag --db-password=", "./migrate --db-password=" + adminPass + " up", adminPass, "password", []string{"--db-password=", " up"}},
		{"flag --license-key", "tool activate --license-key " + licenseValue + " --quiet", licenseValue, "api_key", []string{"--license-key ", " --quiet"}},
		{"json camel signingKey", `{"signingKey": "` + envSecret + `", "issuer": "me"}`, envSecret, "api_key", []string{`"issuer": "me"`}},
		{"docker config auth", `{"auths": {"ghcr.io": {"auth": "` + dockerAuth + `"}}}`, dockerAuth, "api_key", []string{`"ghcr.io"`}},
		{"yaml private key pair", "tls:\n  private_key: " + envSecret + "\n", envSecret, "private_key", []string{"tls:\n  private_key: "}},
		{"credential pair", "CREDENTIAL=" + adminPass, adminPass, "secret", []string{"CREDENTIAL="}},
	}
}

func TestLeaksOfIssue18(t *testing.T) {
	var r *Redactor
	for _, tc := range leakCases() {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.text, tc.secret) && !strings.Contains(tc.text, jsonEsc(tc.secret, 3)) {
				t.Fatalf("bad case: text lacks the secret")
			}
			got := r.Clean(tc.text, 0)
			for depth := 0; depth <= 3; depth++ {
				if s := jsonEsc(tc.secret, depth); strings.Contains(got, s) {
					t.Errorf("secret survived:\n in: %q\nout: %q", tc.text, got)
				}
			}
			if want := "[REDACTED:" + tc.kind + "]"; !strings.Contains(got, want) {
				t.Errorf("no %s marker:\n in: %q\nout: %q", want, tc.text, got)
			}
			for _, k := range tc.keep {
				if !strings.Contains(got, k) {
					t.Errorf("lost surrounding text %q:\nout: %q", k, got)
				}
			}
			// The same inside JSON-encoded tool output, once and twice.
			for _, depth := range []int{1, 2} {
				in := jsonEsc("line one\n"+tc.text+"\n\tnext", depth)
				out := r.Clean(in, 0)
				for d := 0; d <= depth+3; d++ {
					if s := jsonEsc(tc.secret, d); len(s) >= 8 && strings.Contains(out, s) {
						t.Errorf("secret survived at JSON depth %d:\n in: %s\nout: %s", depth, in, out)
					}
				}
			}
		})
	}
}

// jsonEsc JSON-escapes s depth times (without the quotes).
func jsonEsc(s string, depth int) string {
	for range depth {
		b, _ := json.Marshal(s)
		s = string(b[1 : len(b)-1])
	}
	return s
}

// Assignments whose key only looks like a secret's, and words that hold
// a key word, stay as they are.
func TestShapeRulesLeaveOrdinaryTextAlone(t *testing.T) {
	texts := []string{
		"keyboard layout: us; monkey=1; donkey: 42",
		"tokens: 1234 counts, max_tokens=4096, tokenizer: cl100k_base",
		"primary_key=True, foreign_key: users.id, sort_key: created_at",
		`{"key": "name", "value": 1}`,
		"key: app\nvalue: web",
		`{"cacheKey": "user:profile", "partitionKey": "tenantId"}`,
		"PUBLIC_KEY=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0bG9uZ3B1YmxpY2tleQ user@host",
		"curl --key ./client.key --cert ./client.pem https://x.example",
		"openssl req -new -key server.key -out server.csr",
		"ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519",
		"bypass=true compass: north passthrough=1",
		"auth: required\nauth_method: oauth2",
		`{"private": true, "auth": "none"}`,
		"ENCRYPTION_KEY=${ENCRYPTION_KEY}\nJWT_SIGNING_KEY=$JWT_KEY",
		"api_key_file: /etc/app/key.txt\nsigning_key_path: ~/keys/sign.pem",
		"--token-file ~/.config/tok --password-stdin",
		"the signing key is rotated every 90 days",
		"kubectl get secret db -o jsonpath='{.data.password}' | base64 -d",
	}
	var r *Redactor
	for _, s := range texts {
		if got := r.Clean(s, 0); got != s {
			t.Errorf("changed ordinary text:\n in: %q\nout: %q", s, got)
		}
	}
}
