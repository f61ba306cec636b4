using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// The TLS certificate of an embedded instance: self-signed, ECDSA P-256 (a handshake costs a fraction of an RSA one,
/// and generating it takes milliseconds), for the instance's listen address. Written into the data directory as
/// <c>server.crt</c> / <c>server.key</c> (0600, owned by postgres) when missing, so base backups carry it to
/// standbys. Clients use TLS without verifying this certificate (Npgsql's and libpq's default sslmode=prefer): it
/// buys confidentiality on the wire, not server identity; a production fleet brings certificates from its own CA
/// (docs/hardening.md).
/// </summary>
public static class InstanceCertificate
{
    public const string CertificateFile = "server.crt";
    public const string KeyFile = "server.key";
    public static readonly TimeSpan Validity = TimeSpan.FromDays(5 * 365);

    /// <summary>Writes a new certificate and key unless both exist. Returns true when it wrote them.</summary>
    public static async Task<bool> EnsureAsync(string dataDirectory, string commonName, string listenAddress, CancellationToken ct)
    {
        var cert = Path.Combine(dataDirectory, CertificateFile);
        var key = Path.Combine(dataDirectory, KeyFile);
        if (File.Exists(cert) && File.Exists(key)) return false;
        var (certPem, keyPem) = Create(commonName, listenAddress, DateTimeOffset.UtcNow);
        await OsUser.WriteFileAsync(key, keyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite, forPostgres: true, ct).ConfigureAwait(false);
        await OsUser.WriteFileAsync(cert, certPem, UnixFileMode.UserRead | UnixFileMode.UserWrite, forPostgres: true, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>A self-signed server certificate and its PKCS#8 key, both PEM.</summary>
    public static (string CertificatePem, string KeyPem) Create(string commonName, string listenAddress, DateTimeOffset now)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), ecdsa, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        if (IPAddress.TryParse(listenAddress, out var ip)) names.AddIpAddress(ip);
        else names.AddDnsName(listenAddress);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(Validity));
        return (certificate.ExportCertificatePem(), ecdsa.ExportPkcs8PrivateKeyPem());
    }
}
