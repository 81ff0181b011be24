namespace Apertur.Destinations;

/// <summary>
/// The type strings of the kinds Apertur ships (docs/api.md "Destinations"). The server accepts what is registered
/// (<see cref="DestinationKindRegistry"/>, each adapter's <see cref="IDescribedDestination.Descriptor"/>), not this list.
/// </summary>
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
}
