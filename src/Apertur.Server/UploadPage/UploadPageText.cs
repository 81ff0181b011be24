using Microsoft.Net.Http.Headers;

namespace Apertur.Server.UploadPage;

/// <summary>
/// Every string of the upload page in English, French and Spanish, in one place. The server renders the static parts
/// with them and hands the whole table of the chosen language to the page's script. <c>{name}</c> marks a value.
/// </summary>
public static class UploadPageText
{
    public const string English = "en";
    public static readonly string[] Languages = [English, "fr", "es"];

    private static readonly Dictionary<string, Dictionary<string, string>> Tables = new(StringComparer.Ordinal)
    {
        [English] = new(StringComparer.Ordinal)
        {
            ["title"] = "Send photos",
            ["intro"] = "Take photos or choose them from your gallery. Each one is sent as soon as it is ready.",
            ["takePhoto"] = "Take photo",
            ["chooseGallery"] = "Choose from gallery",
            ["remainingMany"] = "{n} photos left",
            ["remainingOne"] = "1 photo left",
            ["remainingNone"] = "No photos left",
            ["accepted"] = "{types} · up to {size} each",
            ["yourPhotos"] = "Your photos",
            ["statusChecking"] = "Checking…",
            ["statusPreparing"] = "Resizing…",
            ["statusWaiting"] = "Waiting",
            ["statusUploading"] = "Uploading {p}%",
            ["statusProcessing"] = "Saving…",
            ["statusDone"] = "Sent",
            ["statusDelivered"] = "Delivered",
            ["statusRetrying"] = "Retrying in {s} s",
            ["statusRetryingNow"] = "Retrying…",
            ["statusWaitingOnline"] = "Will send when you are back online",
            ["statusNotSent"] = "Not sent",
            ["retry"] = "Retry",
            ["remove"] = "Remove",
            ["resized"] = "Resized to {w}×{h}",
            ["progressLabel"] = "Upload of {name}",
            ["reasonNetwork"] = "No connection to the server",
            ["reasonServer"] = "The server is not answering ({status})",
            ["reasonBusy"] = "Too many photos at once",
            ["reasonNotPhoto"] = "This file is not a photo ({kind})",
            ["reasonTypeNotAllowed"] = "{kind} photos are not accepted here",
            ["reasonEmpty"] = "The file is empty",
            ["reasonTooLarge"] = "Too large: {size} (at most {max})",
            ["reasonTooWide"] = "Too large: {w}×{h} pixels (at most {max})",
            ["reasonCannotResize"] = "Too large to resize on this device ({w}×{h} pixels)",
            ["reasonOverLimit"] = "This session takes no more photos",
            ["reasonSessionFull"] = "The session is full",
            ["reasonSessionExpired"] = "The session has expired",
            ["reasonRejected"] = "Refused by the server: {message}",
            ["kindUnknown"] = "unknown type",
            ["offline"] = "You are offline. Your photos will be sent when the connection is back.",
            ["passwordTitle"] = "This session is protected",
            ["passwordIntro"] = "Enter the password you were given to send photos.",
            ["passwordLabel"] = "Password",
            ["passwordSubmit"] = "Continue",
            ["passwordShow"] = "Show password",
            ["passwordWrong"] = "Wrong password. Try again.",
            ["passwordAgain"] = "The password has changed. Enter the new one.",
            ["passwordTooMany"] = "Too many attempts. Try again in {s} seconds.",
            ["passwordNetwork"] = "No connection. Check your network and try again.",
            ["fullTitle"] = "Session full",
            ["fullText"] = "This session has all the photos it needs. Thank you!",
            ["expiredTitle"] = "Session expired",
            ["expiredText"] = "This link is no longer valid. Ask for a new QR code to send photos.",
            ["notFoundTitle"] = "Session not found",
            ["notFoundText"] = "Check the link, or scan the QR code again.",
            ["busyTitle"] = "Too many requests",
            ["busyText"] = "This page was opened too often from your network. Wait a minute, then reload it.",
            ["leaveWarning"] = "Some photos are not sent yet.",
            ["announceSent"] = "{name} sent",
            ["announceDelivered"] = "{name} delivered",
            ["announceFailed"] = "{name} not sent: {reason}",
            ["poweredBy"] = "Powered by Apertur",
        },
        ["fr"] = new(StringComparer.Ordinal)
        {
            ["title"] = "Envoyer des photos",
            ["intro"] = "Prenez des photos ou choisissez-les dans votre galerie. Chacune part dès qu’elle est prête.",
            ["takePhoto"] = "Prendre une photo",
            ["chooseGallery"] = "Choisir dans la galerie",
            ["remainingMany"] = "Encore {n} photos possibles",
            ["remainingOne"] = "Encore 1 photo possible",
            ["remainingNone"] = "Plus aucune photo possible",
            ["accepted"] = "{types} · jusqu’à {size} chacune",
            ["yourPhotos"] = "Vos photos",
            ["statusChecking"] = "Vérification…",
            ["statusPreparing"] = "Redimensionnement…",
            ["statusWaiting"] = "En attente",
            ["statusUploading"] = "Envoi {p} %",
            ["statusProcessing"] = "Enregistrement…",
            ["statusDone"] = "Envoyée",
            ["statusDelivered"] = "Livrée",
            ["statusRetrying"] = "Nouvel essai dans {s} s",
            ["statusRetryingNow"] = "Nouvel essai…",
            ["statusWaitingOnline"] = "Partira au retour de la connexion",
            ["statusNotSent"] = "Non envoyée",
            ["retry"] = "Réessayer",
            ["remove"] = "Retirer",
            ["resized"] = "Redimensionnée en {w}×{h}",
            ["progressLabel"] = "Envoi de {name}",
            ["reasonNetwork"] = "Pas de connexion au serveur",
            ["reasonServer"] = "Le serveur ne répond pas ({status})",
            ["reasonBusy"] = "Trop de photos à la fois",
            ["reasonNotPhoto"] = "Ce fichier n’est pas une photo ({kind})",
            ["reasonTypeNotAllowed"] = "Les photos {kind} ne sont pas acceptées ici",
            ["reasonEmpty"] = "Le fichier est vide",
            ["reasonTooLarge"] = "Trop lourde : {size} (au plus {max})",
            ["reasonTooWide"] = "Trop grande : {w}×{h} pixels (au plus {max})",
            ["reasonCannotResize"] = "Trop grande pour être réduite sur cet appareil ({w}×{h} pixels)",
            ["reasonOverLimit"] = "Cette session n’accepte plus de photos",
            ["reasonSessionFull"] = "La session est complète",
            ["reasonSessionExpired"] = "La session a expiré",
            ["reasonRejected"] = "Refusée par le serveur : {message}",
            ["kindUnknown"] = "type inconnu",
            ["offline"] = "Vous êtes hors ligne. Vos photos partiront dès le retour de la connexion.",
            ["passwordTitle"] = "Cette session est protégée",
            ["passwordIntro"] = "Saisissez le mot de passe que l’on vous a donné pour envoyer des photos.",
            ["passwordLabel"] = "Mot de passe",
            ["passwordSubmit"] = "Continuer",
            ["passwordShow"] = "Afficher le mot de passe",
            ["passwordWrong"] = "Mot de passe incorrect. Réessayez.",
            ["passwordAgain"] = "Le mot de passe a changé. Saisissez le nouveau.",
            ["passwordTooMany"] = "Trop d’essais. Réessayez dans {s} secondes.",
            ["passwordNetwork"] = "Pas de connexion. Vérifiez votre réseau et réessayez.",
            ["fullTitle"] = "Session complète",
            ["fullText"] = "Cette session a reçu toutes les photos attendues. Merci !",
            ["expiredTitle"] = "Session expirée",
            ["expiredText"] = "Ce lien n’est plus valable. Demandez un nouveau code QR pour envoyer des photos.",
            ["notFoundTitle"] = "Session introuvable",
            ["notFoundText"] = "Vérifiez le lien ou scannez de nouveau le code QR.",
            ["busyTitle"] = "Trop de demandes",
            ["busyText"] = "Cette page a été ouverte trop souvent depuis votre réseau. Attendez une minute, puis rechargez-la.",
            ["leaveWarning"] = "Certaines photos ne sont pas encore envoyées.",
            ["announceSent"] = "{name} envoyée",
            ["announceDelivered"] = "{name} livrée",
            ["announceFailed"] = "{name} non envoyée : {reason}",
            ["poweredBy"] = "Propulsé par Apertur",
        },
        ["es"] = new(StringComparer.Ordinal)
        {
            ["title"] = "Enviar fotos",
            ["intro"] = "Toma fotos o elígelas de tu galería. Cada una se envía en cuanto está lista.",
            ["takePhoto"] = "Tomar foto",
            ["chooseGallery"] = "Elegir de la galería",
            ["remainingMany"] = "Quedan {n} fotos",
            ["remainingOne"] = "Queda 1 foto",
            ["remainingNone"] = "No quedan fotos",
            ["accepted"] = "{types} · hasta {size} cada una",
            ["yourPhotos"] = "Tus fotos",
            ["statusChecking"] = "Comprobando…",
            ["statusPreparing"] = "Reduciendo…",
            ["statusWaiting"] = "En espera",
            ["statusUploading"] = "Subiendo {p} %",
            ["statusProcessing"] = "Guardando…",
            ["statusDone"] = "Enviada",
            ["statusDelivered"] = "Entregada",
            ["statusRetrying"] = "Nuevo intento en {s} s",
            ["statusRetryingNow"] = "Reintentando…",
            ["statusWaitingOnline"] = "Se enviará cuando vuelva la conexión",
            ["statusNotSent"] = "No enviada",
            ["retry"] = "Reintentar",
            ["remove"] = "Quitar",
            ["resized"] = "Reducida a {w}×{h}",
            ["progressLabel"] = "Envío de {name}",
            ["reasonNetwork"] = "Sin conexión con el servidor",
            ["reasonServer"] = "El servidor no responde ({status})",
            ["reasonBusy"] = "Demasiadas fotos a la vez",
            ["reasonNotPhoto"] = "Este archivo no es una foto ({kind})",
            ["reasonTypeNotAllowed"] = "Aquí no se aceptan fotos {kind}",
            ["reasonEmpty"] = "El archivo está vacío",
            ["reasonTooLarge"] = "Demasiado pesada: {size} (como máximo {max})",
            ["reasonTooWide"] = "Demasiado grande: {w}×{h} píxeles (como máximo {max})",
            ["reasonCannotResize"] = "Demasiado grande para reducirla en este dispositivo ({w}×{h} píxeles)",
            ["reasonOverLimit"] = "Esta sesión no admite más fotos",
            ["reasonSessionFull"] = "La sesión está completa",
            ["reasonSessionExpired"] = "La sesión ha caducado",
            ["reasonRejected"] = "Rechazada por el servidor: {message}",
            ["kindUnknown"] = "tipo desconocido",
            ["offline"] = "Estás sin conexión. Tus fotos se enviarán cuando vuelva la conexión.",
            ["passwordTitle"] = "Esta sesión está protegida",
            ["passwordIntro"] = "Escribe la contraseña que te dieron para enviar fotos.",
            ["passwordLabel"] = "Contraseña",
            ["passwordSubmit"] = "Continuar",
            ["passwordShow"] = "Mostrar la contraseña",
            ["passwordWrong"] = "Contraseña incorrecta. Inténtalo de nuevo.",
            ["passwordAgain"] = "La contraseña ha cambiado. Escribe la nueva.",
            ["passwordTooMany"] = "Demasiados intentos. Vuelve a intentarlo en {s} segundos.",
            ["passwordNetwork"] = "Sin conexión. Revisa tu red e inténtalo de nuevo.",
            ["fullTitle"] = "Sesión completa",
            ["fullText"] = "Esta sesión ya tiene todas las fotos que necesita. ¡Gracias!",
            ["expiredTitle"] = "Sesión caducada",
            ["expiredText"] = "Este enlace ya no es válido. Pide un nuevo código QR para enviar fotos.",
            ["notFoundTitle"] = "Sesión no encontrada",
            ["notFoundText"] = "Revisa el enlace o vuelve a escanear el código QR.",
            ["busyTitle"] = "Demasiadas solicitudes",
            ["busyText"] = "Esta página se abrió demasiadas veces desde tu red. Espera un minuto y vuelve a cargarla.",
            ["leaveWarning"] = "Algunas fotos aún no se han enviado.",
            ["announceSent"] = "{name} enviada",
            ["announceDelivered"] = "{name} entregada",
            ["announceFailed"] = "{name} no enviada: {reason}",
            ["poweredBy"] = "Con la tecnología de Apertur",
        },
    };

    /// <summary>The strings of one language (an unknown language reads as English).</summary>
    public static IReadOnlyDictionary<string, string> For(string language) =>
        Tables.TryGetValue(language, out var table) ? table : Tables[English];

    /// <summary>
    /// <c>?lang=en|fr|es</c> when given and known; otherwise the best of the browser's <c>Accept-Language</c> by quality
    /// (a regional tag such as <c>fr-CA</c> counts as its language); English when nothing matches.
    /// </summary>
    public static string Choose(string? requested, IList<StringWithQualityHeaderValue> acceptLanguage)
    {
        if (Known(requested) is { } explicitLanguage)
        {
            return explicitLanguage;
        }
        var ranked = acceptLanguage
            .Select((value, order) => (Language: Known(value.Value.Value), Quality: value.Quality ?? 1, Order: order))
            .Where(x => x.Language is not null && x.Quality > 0)
            .OrderByDescending(x => x.Quality).ThenBy(x => x.Order);
        return ranked.Select(x => x.Language).FirstOrDefault() ?? English;
    }

    private static string? Known(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            return null;
        }
        var primary = tag.Split('-', '_')[0].Trim().ToLowerInvariant();
        return Languages.FirstOrDefault(l => l == primary);
    }

    /// <summary>Every language has the same keys; the tests hold the catalogue to it.</summary>
    internal static IEnumerable<string> KeysOf(string language) => Tables[language].Keys;
}
