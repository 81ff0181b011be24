namespace Apertur.Destinations;

/// <summary>The destination type strings the API accepts (docs/api.md "Destinations").</summary>
public static class DestinationKinds
{
    public const string Webhook = "webhook";
    public const string S3 = "s3";
    public const string GoogleDrive = "google_drive";
    public const string Dropbox = "dropbox";
    public const string OneDrive = "onedrive";
    public const string Ftp = "ftp";
    public const string Sftp = "sftp";
    public const string WebDav = "webdav";
    public const string AzureBlob = "azure_blob";

    public static readonly IReadOnlyList<string> All = [Webhook, S3, GoogleDrive, Dropbox, OneDrive, Ftp, Sftp, WebDav, AzureBlob];

    /// <summary>The canonical kind for a type string, accepting the <c>gdrive</c> alias; null when unknown.</summary>
    public static string? Normalise(string? type) => type?.Trim().ToLowerInvariant() switch
    {
        "gdrive" => GoogleDrive,
        { } t when All.Contains(t) => t,
        _ => null,
    };
}
