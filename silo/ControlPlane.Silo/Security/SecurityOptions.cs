using ControlPlane.Grains.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Security;

/// <summary><c>ControlPlane:Security:*</c>: authentication switches and per-principal bounds.</summary>
public sealed class SecurityOptions
{
    /// <summary>Turns authentication and authorization off (every caller is an admin). Local experiments only.</summary>
    public bool InsecureNoAuth { get; set; }

    /// <summary>Create an admin token and write it to &lt;data-dir&gt;/admin.token when the catalog has no active one.</summary>
    public bool BootstrapAdminToken { get; set; } = true;

    /// <summary>Concurrent server streams (watches) one principal may hold open on one silo.</summary>
    public int MaxStreamsPerPrincipal { get; set; } = 16;

    internal IEnumerable<string> Validate()
    {
        if (MaxStreamsPerPrincipal is < 1 or > 10_000)
            yield return $"ControlPlane:Security:MaxStreamsPerPrincipal is {MaxStreamsPerPrincipal}; expected 1 to 10000.";
    }
}

/// <summary>How a client certificate's holder is told apart: a certificate whose chain the gateway accepted is then mapped to a principal.</summary>
public enum ClientCertificateMode
{
    /// <summary>Not asked for: callers authenticate with bearer tokens.</summary>
    None,
    /// <summary>Asked for; a connection without one still authenticates with a token.</summary>
    Allow,
    /// <summary>The TLS handshake fails without a certificate signed by ClientCaFile.</summary>
    Require,
}

/// <summary><c>ControlPlane:Tls:*</c>: TLS of the gRPC gateway. Enabled when CertificateFile is set.</summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate (with KeyFile) or PKCS#12 (.pfx/.p12, with PasswordFile).</summary>
    public string CertificateFile { get; set; } = "";

    /// <summary>PEM private key of a PEM certificate.</summary>
    public string KeyFile { get; set; } = "";

    /// <summary>File holding the PKCS#12 password (never the password itself in configuration).</summary>
    public string PasswordFile { get; set; } = "";

    public ClientCertificateMode ClientCertificates { get; set; } = ClientCertificateMode.None;

    /// <summary>PEM bundle of the CA(s) client certificates must chain to.</summary>
    public string ClientCaFile { get; set; } = "";

    /// <summary>Client certificates that are principals, by thumbprint or subject.</summary>
    public List<ClientPrincipalOptions> ClientPrincipals { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificateFile);

    internal bool IsPkcs12 =>
        CertificateFile.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || CertificateFile.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    internal IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            if (ClientCertificates != ClientCertificateMode.None) yield return "ControlPlane:Tls:ClientCertificates is set but ControlPlane:Tls:CertificateFile is empty; client certificates need TLS.";
            yield break;
        }
        if (!File.Exists(CertificateFile)) yield return $"ControlPlane:Tls:CertificateFile '{CertificateFile}' does not exist.";
        if (!IsPkcs12 && string.IsNullOrWhiteSpace(KeyFile)) yield return "ControlPlane:Tls:KeyFile is empty; a PEM certificate needs its key (or use a .pfx/.p12 file).";
        if (!IsPkcs12 && !string.IsNullOrWhiteSpace(KeyFile) && !File.Exists(KeyFile)) yield return $"ControlPlane:Tls:KeyFile '{KeyFile}' does not exist.";
        if (!string.IsNullOrWhiteSpace(PasswordFile) && !File.Exists(PasswordFile)) yield return $"ControlPlane:Tls:PasswordFile '{PasswordFile}' does not exist.";
        if (ClientCertificates != ClientCertificateMode.None && !File.Exists(ClientCaFile))
            yield return $"ControlPlane:Tls:ClientCaFile '{ClientCaFile}' does not exist; client certificates are checked against it.";
        for (var i = 0; i < ClientPrincipals.Count; i++)
        {
            foreach (var e in ClientPrincipals[i].Validate($"ControlPlane:Tls:ClientPrincipals:{i}")) yield return e;
        }
    }
}

/// <summary>One client certificate mapped to a principal.</summary>
public sealed class ClientPrincipalOptions
{
    /// <summary>SHA-1 thumbprint (hex, as X509Certificate2.Thumbprint shows it); or leave empty and give Subject.</summary>
    public string Thumbprint { get; set; } = "";

    /// <summary>Distinguished name, e.g. "CN=billing-service"; used when Thumbprint is empty.</summary>
    public string Subject { get; set; } = "";

    public string Principal { get; set; } = "";
    public string Role { get; set; } = "viewer";
    public List<string> Tenants { get; set; } = [];

    internal IEnumerable<string> Validate(string key)
    {
        if (string.IsNullOrWhiteSpace(Thumbprint) && string.IsNullOrWhiteSpace(Subject)) yield return $"{key}: give Thumbprint or Subject.";
        if (!FleetKeys.IsValidName(Principal)) yield return $"{key}:Principal is '{Principal}'; expected a name matching {FleetKeys.NamePattern}.";
        if (!Roles.TryParse(Role, out _)) yield return $"{key}:Role is '{Role}'; expected viewer, operator or admin.";
        foreach (var tenant in Tenants.Where(t => !FleetKeys.IsValidName(t))) yield return $"{key}:Tenants has '{tenant}'; expected names matching {FleetKeys.NamePattern}.";
    }

    internal Role ParsedRole => Roles.TryParse(Role, out var role) ? role : Protos.V1.Role.Unspecified;
}
