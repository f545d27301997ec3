//! How a clip is shown wherever the app names one: the on-demand YouTube player limited to its segment
//! ([`Player`]), its segment as text ([`segment_text`]) and, once the visitor opts in, its YouTube still
//! image ([`Thumbnails`], [`ThumbnailToggle`], [`ClipThumb`]).

use kinetics::export::seconds;
use kinetics::Clip;
use leptos::prelude::*;

/// `417–427 s`.
pub fn segment_text(clip: &Clip) -> String {
    format!(
        "{}–{} s",
        seconds(clip.segment.start_ms),
        seconds(clip.segment.end_ms)
    )
}

/// Whether a YouTube frame can load on this page: always on a page that is not cross-origin
/// isolated; on an isolated one (COEP, for the classifier's threads) only as a `credentialless`
/// iframe, which not every browser has (the frame would stay blank).
pub fn can_embed() -> bool {
    use js_sys::Reflect;
    if !crate::capabilities::cross_origin_isolated() {
        return true;
    }
    Reflect::get(&js_sys::global(), &"HTMLIFrameElement".into())
        .and_then(|frame| Reflect::get(&frame, &"prototype".into()))
        .and_then(|prototype| Reflect::has(&prototype, &"credentialless".into()))
        .unwrap_or(false)
}

/// A youtube-nocookie embed limited to the clip, created only when asked for. It is `credentialless`: on a
/// cross-origin isolated page (the explorer's are served with `Cross-Origin-Embedder-Policy: credentialless`, the
/// classifier's with `require-corp`) a cross-origin frame must not carry credentials. A browser without
/// credentialless iframes gets a plain link instead.
/// `autoplay` starts it at once (the verification task and the quiz, where the visitor asked for it).
#[component]
pub fn Player(clip: Clip, #[prop(optional)] autoplay: bool) -> impl IntoView {
    if !can_embed() {
        return view! {
            <div class="player">
                <p data-testid="player-link">
                    "This browser cannot embed YouTube on this page (it has no credentialless iframes, which the page's \
                     cross-origin isolation needs). "
                    <a href=clip.watch_url() target="_blank" rel="noopener noreferrer">"Watch the clip on YouTube"</a>
                    "."
                </p>
            </div>
        }
        .into_any();
    }
    let title = format!(
        "YouTube video {} from {} s to {} s",
        clip.youtube_id,
        seconds(clip.segment.start_ms),
        seconds(clip.segment.end_ms)
    );
    let mut src = clip.embed_url();
    if autoplay {
        src.push_str("&autoplay=1");
    }
    let frame = leptos::html::iframe()
        .attr("credentialless", "")
        .attr("src", src)
        .attr("title", title)
        .attr("width", "560")
        .attr("height", "315")
        .attr(
            "allow",
            "autoplay; encrypted-media; picture-in-picture; fullscreen",
        )
        .attr("referrerpolicy", "strict-origin-when-cross-origin")
        .attr("data-testid", "player");
    view! { <div class="player">{frame}</div> }.into_any()
}

/// Where the choice is remembered (`localStorage`).
const THUMBNAILS_KEY: &str = "kinetiscope.thumbnails";

/// Whether YouTube still images are shown: off until the visitor turns them on (each image is a request
/// to YouTube's image server), then remembered on this device. Shared through context.
#[derive(Clone, Copy)]
pub struct Thumbnails(pub RwSignal<bool>);

impl Thumbnails {
    /// The remembered choice (off when nothing is remembered or storage is unavailable).
    pub fn load() -> Thumbnails {
        let on = storage()
            .and_then(|s| s.get_item(THUMBNAILS_KEY).ok().flatten())
            .is_some_and(|v| v == "on");
        Thumbnails(RwSignal::new(on))
    }

    /// Turns them on or off and remembers it.
    pub fn set(self, on: bool) {
        self.0.set(on);
        if let Some(storage) = storage() {
            let _ = if on {
                storage.set_item(THUMBNAILS_KEY, "on")
            } else {
                storage.remove_item(THUMBNAILS_KEY)
            };
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The shared [`Thumbnails`] (provided by [`crate::App`]).
pub fn use_thumbnails() -> Thumbnails {
    use_context::<Thumbnails>().unwrap_or_else(|| {
        let thumbnails = Thumbnails::load();
        provide_context(thumbnails);
        thumbnails
    })
}

/// The opt-in switch, with what it means.
#[component]
pub fn ThumbnailToggle() -> impl IntoView {
    let thumbnails = use_thumbnails();
    view! {
        <label class="thumb-toggle">
            <input type="checkbox" data-testid="thumbnails-toggle" prop:checked=move || thumbnails.0.get()
                on:change=move |ev| thumbnails.set(event_target_checked(&ev))/>
            " Show thumbnails"
            <span class="muted">
                " (still images loaded from YouTube's image server, i.ytimg.com, which then sees your address; \
                 off by default, remembered on this device)"
            </span>
        </label>
    }
}

/// A clip's still image, lazily loaded; only rendered while thumbnails are on. YouTube's images carry no
/// `Cross-Origin-Resource-Policy`, so a document served with `require-corp` (the visitor came in at a classifier
/// page) cannot show them: the page is then loaded again from the host, which serves it as the explorer's
/// ([`crate::isolation::reload_for_embeds`]).
#[component]
pub fn ClipThumb(clip: Clip) -> impl IntoView {
    crate::isolation::reload_for_embeds();
    let alt = format!(
        "YouTube video {} at {}",
        clip.youtube_id,
        segment_text(&clip)
    );
    view! {
        <img class="thumb" src=clip.youtube_id.thumbnail_url() alt=alt loading="lazy" width="160" height="90"
            referrerpolicy="no-referrer" data-testid="thumbnail"/>
    }
}
