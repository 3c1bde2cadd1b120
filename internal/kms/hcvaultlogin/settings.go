package hcvaultlogin

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/passage-cm/passage/internal/envconfig"
)

// Method is how a process logs in to HashiCorp Vault (PASSAGE_VAULT_AUTH).
type Method string

const (
	// Token uses VAULT_TOKEN, which Vault's client reads itself, as it is: nothing logs in
	// and nothing renews it.
	Token Method = "token"
	// Kubernetes logs in with the pod's service account token (Vault's kubernetes auth).
	Kubernetes Method = "kubernetes"
	// AppRole logs in with a role id and a secret id (Vault's approle auth).
	AppRole Method = "approle"
)

// UnmarshalText reads token, kubernetes or approle.
func (m *Method) UnmarshalText(b []byte) error {
	switch Method(b) {
	case Token, Kubernetes, AppRole:
		*m = Method(b)
		return nil
	}
	return envconfig.Reason("want token, kubernetes or approle")
}

// The variables of [Settings], which errors name.
const (
	varAuth                = "PASSAGE_VAULT_AUTH"
	varRole                = "PASSAGE_VAULT_ROLE"
	varServiceAccountToken = "PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE"
	varRoleIDFile          = "PASSAGE_VAULT_ROLE_ID_FILE"
	varSecretIDFile        = "PASSAGE_VAULT_SECRET_ID_FILE"
)

// Settings say how the key manager's Vault client logs in (PASSAGE_VAULT_*). The zero value
// is Token: VAULT_TOKEN as given.
type Settings struct {
	Method Method `env:"PASSAGE_VAULT_AUTH" default:"token" help:"how a process logs in to HashiCorp Vault for {PASSAGE_KEK_URI}: {token} uses {VAULT_TOKEN} as given, never renewed; {kubernetes} presents the pod's service account token for {PASSAGE_VAULT_ROLE}; {approle} presents {PASSAGE_VAULT_ROLE_ID_FILE} and {PASSAGE_VAULT_SECRET_ID_FILE}. A token got by logging in is renewed, and the login made again when renewal fails or the token reaches its maximum lifetime"`
	// Role is the Vault role a Kubernetes login asks for.
	Role string `env:"PASSAGE_VAULT_ROLE" help:"{kubernetes}: the Vault role to log in as, one per service (e.g. {passage-intake})"`
	// Mount is where the auth method is mounted in Vault; empty, its own name.
	Mount string `env:"PASSAGE_VAULT_AUTH_MOUNT" help:"the path Vault mounts the auth method at; unset, {kubernetes} or {approle}"`
	// ServiceAccountTokenFile is the service account token (a JWT) a Kubernetes login
	// presents, read at every login.
	ServiceAccountTokenFile string `env:"PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE" default:"/var/run/secrets/kubernetes.io/serviceaccount/token" help:"{kubernetes}: the service account token presented to Vault, best a projected token with Vault's audience; read again at every login, as Kubernetes rotates it"`
	// RoleIDFile and SecretIDFile hold an AppRole login's role id and secret id, read at
	// every login.
	RoleIDFile   string `env:"PASSAGE_VAULT_ROLE_ID_FILE" help:"{approle}: the file holding the role id"`
	SecretIDFile string `env:"PASSAGE_VAULT_SECRET_ID_FILE" help:"{approle}: the file holding the secret id; read again at every login"`
}

func (s Settings) method() Method {
	if s.Method == "" {
		return Token
	}
	return s.Method
}

func (s Settings) mount() string {
	if s.Mount != "" {
		return s.Mount
	}
	return string(s.method())
}

// check says which variable a login by s still needs.
func (s Settings) check() error {
	switch s.method() {
	case Kubernetes:
		if s.Role == "" {
			return fmt.Errorf("%s=kubernetes needs %s, the Vault role to log in as", varAuth, varRole)
		}
		if s.ServiceAccountTokenFile == "" {
			return fmt.Errorf("%s=kubernetes needs %s", varAuth, varServiceAccountToken)
		}
	case AppRole:
		if s.RoleIDFile == "" || s.SecretIDFile == "" {
			return fmt.Errorf("%s=approle needs %s and %s", varAuth, varRoleIDFile, varSecretIDFile)
		}
	}
	return nil
}

// String names the login for errors and logs: the method, the role and the mount, which are
// not secret; never a credential.
func (s Settings) String() string {
	out := varAuth + "=" + string(s.method())
	if s.method() == Kubernetes {
		out += ", " + varRole + "=" + s.Role
	}
	if s.method() != Token {
		out += ", mounted at " + s.mount()
	}
	return out
}

// readCredential reads the credential in path, which variable names, without the
// surrounding white space. Its errors name the variable and the path, never the contents.
func readCredential(variable, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", variable, err)
	}
	cred := strings.TrimSpace(string(b))
	if cred == "" {
		return "", fmt.Errorf("%s: %s is empty", variable, path)
	}
	return cred, nil
}

// redact returns err with every credential in its text replaced, should an auth method or
// the server have repeated one.
func redact(err error, credentials ...string) error {
	msg := err.Error()
	for _, c := range credentials {
		if c != "" {
			msg = strings.ReplaceAll(msg, c, "[credential]")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
