using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apertur.Destinations;
using Apertur.Server.Destinations;

namespace Apertur.Server.Dashboard.Destinations;

public enum FieldType
{
    Text,
    Url,
    Number,
    Multiline,
    Choice,
    Flag,
}

/// <summary>One config key of a destination kind, as the form shows and reads it.</summary>
/// <param name="Name">The config key, exactly as the adapter reads it.</param>
/// <param name="Secret">Encrypted at rest and never shown again: left empty when editing, the stored value is kept.</param>
public sealed record FormField(string Name, string Label, string Help, FieldType Type = FieldType.Text, bool Required = false, bool Secret = false,
    string? Placeholder = null, IReadOnlyList<string>? Choices = null, int Min = 0, int Max = int.MaxValue);

/// <summary>How the dashboard describes one destination kind: what it is, its fields, what to be careful about.</summary>
/// <param name="OAuth">Connected to an account with OAuth ("Connect" button) rather than credentials typed in.</param>
/// <param name="OneOf">Groups of fields of which at least one must be given (a password or a private key).</param>
public sealed record DestinationForm(string Kind, string Title, string Summary, IReadOnlyList<FormField> Fields, bool OAuth = false,
    IReadOnlyList<string[]>? OneOf = null, string? Warning = null);

/// <summary>
/// One description per destination kind drives the add/edit form, its help text and its checks: a new kind needs only an
/// entry here. The adapter still has the last word (<see cref="DestinationService"/> validates the config it builds).
/// </summary>
public static class DestinationForms
{
    private const string TemplateHelp = "Placeholders: {session_id}, {image_index}, {image_id}, {ext}, {filename}, {name}, {label}, {date} or {date:yyyy-MM-dd}, {tag:NAME}.";

    public static readonly IReadOnlyList<DestinationForm> All =
    [
        new(DestinationKinds.Webhook, "Webhook", "POSTs each image to your HTTPS endpoint, signed with the project's webhook secret.",
        [
            new("url", "Receiver URL", "Your endpoint's absolute http or https URL. It gets one request per image and must answer 2xx within 30 s.",
                FieldType.Url, Required: true, Placeholder: "https://example.com/apertur/hook"),
            new("format", "Body format", "multipart: a form with the file; json_base64: JSON with the bytes in base64; binary: the raw bytes; "
                + "event_json: a JSON event with a signed download link (Odoo).", FieldType.Choice, Choices: ["multipart", "json_base64", "binary", "event_json"]),
        ]),
        new(DestinationKinds.S3, "Amazon S3 or S3-compatible", "Writes each image as an object in a bucket: AWS S3, MinIO, Cloudflare R2, Backblaze B2, Wasabi, DigitalOcean Spaces.",
        [
            new("bucket", "Bucket", "The bucket's name. It must exist.", Required: true, Placeholder: "my-photos"),
            new("region", "Region", "The bucket's region, e.g. eu-west-1. May stay empty with a custom endpoint.", Placeholder: "eu-west-1"),
            new("access_key_id", "Access key ID", "Of an IAM user or key allowed to s3:PutObject on the bucket.", Required: true, Placeholder: "AKIA…"),
            new("secret_access_key", "Secret access key", "Encrypted at rest, never shown again.", Required: true, Secret: true),
            new("session_token", "Session token", "Only with temporary credentials (STS). Encrypted at rest.", Secret: true),
            new("endpoint", "Endpoint", "Only for S3-compatible stores: their https URL. Empty for AWS.", FieldType.Url, Placeholder: "https://s3.example.com"),
            new("force_path_style", "Path-style addressing", "bucket in the path (https://host/bucket/key) instead of the host name; the default with an endpoint.", FieldType.Flag),
            new("key_template", "Object key template", TemplateHelp + " Default uploads/{session_id}/{image_index}.{ext}.", Placeholder: "uploads/{session_id}/{image_index}.{ext}"),
            new("storage_class", "Storage class", "e.g. STANDARD, STANDARD_IA, GLACIER_IR. Empty: the bucket's default.", Placeholder: "STANDARD"),
            new("server_side_encryption", "Server-side encryption", "Empty: the bucket's default.", FieldType.Choice, Choices: ["", "AES256", "aws:kms", "aws:kms:dsse"]),
            new("sse_kms_key_id", "KMS key ID", "Only with aws:kms or aws:kms:dsse: the key's ID or ARN. Empty: the account's default key.", Placeholder: "arn:aws:kms:…"),
        ]),
        new(DestinationKinds.AzureBlob, "Azure Blob Storage", "Writes each image as a block blob in a container.",
        [
            new("account_name", "Storage account", "The account name (the first part of https://NAME.blob.core.windows.net).", Placeholder: "mystorageaccount"),
            new("container_name", "Container", "The container's name. It must exist.", Required: true, Placeholder: "photos"),
            new("sas_token", "SAS token", "A token with create and write permission on the container (starts with sv=). Give one of SAS token, account key or connection string.", Secret: true),
            new("account_key", "Account key", "The account's base64 access key.", Secret: true),
            new("connection_string", "Connection string", "As the portal shows it; it may carry the account name and endpoint too.", Secret: true),
            new("blob_template", "Blob name template", TemplateHelp + " Default uploads/{session_id}/{image_index}.{ext}.", Placeholder: "uploads/{session_id}/{image_index}.{ext}"),
            new("access_tier", "Access tier", "Empty: the account's default.", FieldType.Choice, Choices: ["", "Hot", "Cool", "Cold", "Archive"]),
            new("endpoint", "Endpoint", "Only for sovereign clouds or Azurite. Empty: https://ACCOUNT.blob.core.windows.net.", FieldType.Url),
        ], OneOf: [["sas_token", "account_key", "connection_string"]]),
        new(DestinationKinds.Sftp, "SFTP", "Uploads each image over SSH to a server you run.",
        [
            new("host", "Host", "The server's host name or IP address, without sftp:// or a path.", Required: true, Placeholder: "files.example.com"),
            new("port", "Port", "Default 22.", FieldType.Number, Min: 1, Max: 65535, Placeholder: "22"),
            new("username", "User name", "The SSH login.", Required: true),
            new("password", "Password", "Give a password or a private key (or both).", Secret: true),
            new("private_key", "Private key", "The key's text in OpenSSH or PEM format (-----BEGIN … PRIVATE KEY-----).", FieldType.Multiline, Secret: true),
            new("private_key_passphrase", "Key passphrase", "Only if the private key is encrypted.", Secret: true),
            new("host_key_fingerprint", "Host key fingerprint", "SHA256:… as `ssh-keygen -l` prints it. When set, any other server key is refused (recommended).", Placeholder: "SHA256:…"),
            new("remote_dir", "Remote folder", "Relative to the login folder, or absolute. Created when missing.", Placeholder: "uploads"),
            new("path_template", "Path template", TemplateHelp + " Default {session_id}/{image_index}.{ext}.", Placeholder: "{session_id}/{image_index}.{ext}"),
        ], OneOf: [["password", "private_key"]]),
        new(DestinationKinds.Ftp, "FTP / FTPS", "Uploads each image to an FTP server, with TLS (FTPS) by default.",
        [
            new("host", "Host", "The server's host name or IP address, without ftp:// or a path.", Required: true, Placeholder: "ftp.example.com"),
            new("port", "Port", "Default 21 (990 for implicit TLS).", FieldType.Number, Min: 1, Max: 65535, Placeholder: "21"),
            new("username", "User name", "The FTP login.", Required: true),
            new("password", "Password", "Encrypted at rest, never shown again.", Secret: true),
            new("tls", "TLS", "explicit: AUTH TLS on the usual port (recommended); implicit: TLS from the first byte (port 990); none: plain FTP.",
                FieldType.Choice, Choices: ["explicit", "implicit", "none"]),
            new("tls_certificate", "Trusted certificate", "For a self-signed server: its certificate (or its CA's) as PEM, -----BEGIN CERTIFICATE-----. Empty: the system's trusted CAs.",
                FieldType.Multiline),
            new("tls_verify", "Check the certificate", "false skips every certificate check, so an impostor can read the login: prefer a trusted certificate above.",
                FieldType.Choice, Choices: ["true", "false"]),
            new("remote_dir", "Remote folder", "Relative to the login folder, or absolute. Created when missing.", Placeholder: "uploads"),
            new("path_template", "Path template", TemplateHelp + " Default {session_id}/{image_index}.{ext}.", Placeholder: "{session_id}/{image_index}.{ext}"),
        ], Warning: "Plain FTP (TLS: none) sends the user name, the password and every image in clear text: anyone on the network path can read them. Prefer explicit TLS or SFTP."),
        new(DestinationKinds.WebDav, "WebDAV", "PUTs each image into a WebDAV folder: Nextcloud, ownCloud, Apache mod_dav, many NAS.",
        [
            new("url", "Folder URL", "The WebDAV folder, e.g. Nextcloud's https://HOST/remote.php/dav/files/USER/.", FieldType.Url, Required: true,
                Placeholder: "https://cloud.example.com/remote.php/dav/files/me/"),
            new("username", "User name", "The WebDAV login."),
            new("password", "Password", "For Nextcloud, an app password. Encrypted at rest, never shown again.", Secret: true),
            new("remote_dir", "Remote folder", "Below the URL; created when missing.", Placeholder: "apertur"),
            new("path_template", "Path template", TemplateHelp + " Default {session_id}/{image_index}.{ext}.", Placeholder: "{session_id}/{image_index}.{ext}"),
        ]),
        new(DestinationKinds.GoogleDrive, "Google Drive", "Uploads each image to a folder of a Google Drive, connected with your Google account.",
        [
            new("folder", "Folder", "A folder path in the drive, created when missing.", Placeholder: "Apertur"),
            new("folder_id", "Folder ID", "Or an existing folder's id (from its URL); wins over the path."),
            new("subfolder_template", "Subfolder template", TemplateHelp, Placeholder: "{session_id}"),
            new("filename_template", "File name template", TemplateHelp, Placeholder: "{image_index}.{ext}"),
        ], OAuth: true),
        new(DestinationKinds.Dropbox, "Dropbox", "Uploads each image to your Dropbox, connected with your Dropbox account.",
        [
            new("folder", "Folder", "The {folder} part of /Apps/Apertur/{folder}/{session_id}/.", Placeholder: "photos"),
            new("subfolder_template", "Subfolder template", TemplateHelp, Placeholder: "{folder}/{session_id}"),
            new("filename_template", "File name template", TemplateHelp, Placeholder: "{image_index}.{ext}"),
        ], OAuth: true),
        new(DestinationKinds.OneDrive, "OneDrive", "Uploads each image to OneDrive or SharePoint, connected with your Microsoft account.",
        [
            new("folder", "Folder", "A folder path in the drive, created when missing.", Placeholder: "Apertur"),
            new("drive_id", "Drive ID", "Only for a SharePoint or other drive than your own."),
            new("folder_id", "Folder ID", "Or an existing folder's id; wins over the path."),
            new("subfolder_template", "Subfolder template", TemplateHelp, Placeholder: "{session_id}"),
            new("filename_template", "File name template", TemplateHelp, Placeholder: "{image_index}.{ext}"),
        ], OAuth: true),
    ];

    public static DestinationForm? Find(string? kind) => All.FirstOrDefault(f => f.Kind == DestinationKinds.Normalise(kind));

    /// <summary>
    /// The config the form's values describe. Empty fields are left out; a secret left empty while editing is sent as the
    /// mask, which keeps the stored secret (<see cref="DestinationConfigs.Merge"/>). Problems are said in words.
    /// </summary>
    public static (JsonElement Config, List<string> Problems) Read(DestinationForm form, Func<string, string?> value, bool editing)
    {
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(value);
        var config = new JsonObject();
        var problems = new List<string>();
        foreach (var field in form.Fields)
        {
            var raw = value(field.Name);
            var text = field.Secret || field.Type == FieldType.Multiline ? raw : raw?.Trim();
            if (field.Type == FieldType.Flag)
            {
                if (text is "true" or "on")
                {
                    config[field.Name] = true;
                }
                else if (editing)
                {
                    config[field.Name] = false;
                }
                continue;
            }
            if (string.IsNullOrEmpty(text))
            {
                if (field.Secret && editing)
                {
                    config[field.Name] = DestinationConfigs.MaskText;
                }
                else if (field.Required)
                {
                    problems.Add($"{field.Label} is required.");
                }
                else if (editing)
                {
                    // A field emptied while editing is removed from the stored config (merge patch null).
                    config[field.Name] = null;
                }
                continue;
            }
            switch (field.Type)
            {
                case FieldType.Number:
                    if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= field.Min && n <= field.Max)
                    {
                        config[field.Name] = n;
                    }
                    else
                    {
                        problems.Add($"{field.Label} must be a whole number from {field.Min} to {field.Max}.");
                    }
                    break;
                case FieldType.Url:
                    if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                    {
                        config[field.Name] = text;
                    }
                    else
                    {
                        problems.Add($"{field.Label} must be an absolute http or https URL (got '{text}').");
                    }
                    break;
                case FieldType.Choice when field.Choices is { } choices && !choices.Contains(text):
                    problems.Add($"{field.Label} must be one of {string.Join(", ", choices.Where(c => c.Length > 0))}.");
                    break;
                default:
                    config[field.Name] = text;
                    break;
            }
        }
        foreach (var group in form.OneOf ?? [])
        {
            var given = group.Any(name => config[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0);
            if (!given)
            {
                var labels = group.Select(name => form.Fields.First(f => f.Name == name).Label);
                problems.Add($"Give one of: {string.Join(", ", labels)}.");
            }
        }
        return (JsonSerializer.SerializeToElement(config), problems);
    }

    /// <summary>A stored (masked) config value to show in the form: never a secret.</summary>
    public static string? Shown(FormField field, JsonElement maskedConfig)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.Secret || maskedConfig.ValueKind != JsonValueKind.Object || !maskedConfig.TryGetProperty(field.Name, out var v))
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }
}
