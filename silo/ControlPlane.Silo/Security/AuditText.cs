using System.Text;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ControlPlane.Silo.Security;

/// <summary>
/// What of a request goes into the audit log: its JSON with secrets blanked, and its target. A field is secret when
/// it carries <c>[(controlplane.v1.secret) = true]</c> or, as a safety net for fields someone forgot to mark, when
/// its name says so (password, secret, token).
/// </summary>
internal static class AuditText
{
    public const string Redacted = "[redacted]";
    public const int MaxArgumentsLength = 4096;

    // Most general first, so targets read like paths: environment/tier/replica.
    private static readonly string[] TargetFields = ["environment", "tier", "replica", "tenant", "id", "name"];

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    /// <summary>The request as JSON, secret fields replaced by "[redacted]", cut to a bounded length.</summary>
    public static string Arguments(IMessage? request)
    {
        if (request is null) return "{}";
        var copy = request.Descriptor.Parser.ParseFrom(request.ToByteString());
        Blank(copy);
        string json;
        try
        {
            json = Json.Format(copy);
        }
        catch (InvalidOperationException)
        {
            // Out-of-range timestamps and durations cannot be canonical JSON; the diagnostic form still shows them.
            json = copy.ToString() ?? "{}";
        }
        if (json.Length <= MaxArgumentsLength) return json;
        // Never cut between the halves of a surrogate pair: the catalog refuses a lone half.
        var cut = char.IsHighSurrogate(json[MaxArgumentsLength - 1]) ? MaxArgumentsLength - 1 : MaxArgumentsLength;
        return json[..cut] + "…(cut)";
    }

    /// <summary>"env/tier/replica" (whichever of the usual fields the request has and sets), for filtering.</summary>
    public static string Target(IMessage? request)
    {
        if (request is null) return "";
        var parts = new List<string>();
        foreach (var name in TargetFields)
        {
            var field = request.Descriptor.FindFieldByName(name);
            if (field is { FieldType: FieldType.String, IsRepeated: false } && !IsSecret(field)
                && field.Accessor.GetValue(request) is string { Length: > 0 } value)
            {
                parts.Add(Clean(value, 64));
            }
        }
        return string.Join('/', parts);
    }

    public static bool IsSecret(FieldDescriptor field)
    {
        var options = field.GetOptions();
        if (options is not null && options.HasExtension(PermissionsExtensions.Secret) && options.GetExtension(PermissionsExtensions.Secret))
            return true;
        var name = field.Name;
        return name is "password" or "secret" or "token"
            || name.EndsWith("_password", StringComparison.Ordinal)
            || name.EndsWith("_secret", StringComparison.Ordinal);
    }

    /// <summary>Untrusted text made safe to store and show: bounded, control characters escaped.</summary>
    public static string Clean(string value, int max)
    {
        var builder = new StringBuilder(Math.Min(value.Length, max) + 8);
        foreach (var c in value)
        {
            if (builder.Length >= max)
            {
                builder.Append('…');
                break;
            }
            if (char.IsControl(c) || char.IsSurrogate(c)) builder.Append($"\\u{(int)c:x4}");
            else builder.Append(c);
        }
        return builder.ToString();
    }

    private static void Blank(IMessage message)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (IsSecret(field))
            {
                if (field.IsRepeated || field.IsMap) field.Accessor.Clear(message);
                else if (field.FieldType == FieldType.String && value is string { Length: > 0 }) field.Accessor.SetValue(message, Redacted);
                else if (field.FieldType == FieldType.Bytes) field.Accessor.SetValue(message, ByteString.Empty);
                else field.Accessor.Clear(message);
                continue;
            }
            if (field.FieldType != FieldType.Message || field.IsMap) continue;
            if (field.IsRepeated)
            {
                foreach (var item in (System.Collections.IEnumerable)value)
                {
                    if (item is IMessage nested) Blank(nested);
                }
            }
            else if (value is IMessage nested)
            {
                Blank(nested);
            }
        }
    }
}
