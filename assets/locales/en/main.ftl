# Tsunagu — English. Read by children and nurses: short, kind, clear.

app-title = Tsunagu
app-subtitle = Our ward room, together

start-nickname-label = Your name (nickname)
start-nickname-hint = Type it on the keyboard
start-nickname-invalid = Please use 1 to 24 letters or numbers for your name (no emoji or special symbols)
start-color-label = Your colour
start-language-label = Language
start-host = Open a room on this PC
start-join = Join with an invite
start-starting = Getting the room ready…

lang-ja = 日本語
lang-en = English

hud-people = { $count ->
    [one] 1 person is here
   *[other] { $count } people are here
}
hud-you = { $name } (you)
hud-help = Walk: WASD / arrows · Go there: click the floor · Turn: Q / E · Look around: drag with right button · View: V · Mic: M · Hold to talk: Space · Gestures: 1–6 · Raise hand: 7 · Ball, darts: click to pick up · Chat: Enter
hud-help-button = ?
drawer-people = People ({ $count })
drawer-expressions = Feelings
drawer-chat = Chat
drawer-look = Look
drawer-wishes = Wishes
drawer-voice = Voice
drawer-settings = Settings
drawer-staff = Staff
drawer-invite = Invite
hud-notices-folded = Notices ({ $count })
text-size-normal = Text: normal
text-size-large = Text: large
text-size-largest = Text: largest
link-mode-normal = Connection: normal
link-mode-light = Connection: light
link-mode-listen-only = Connection: listen only
link-offer = The connection seems weak. Light mode keeps voices from breaking up.
link-offer-yes = Make it light
link-offer-no = Keep as is
hud-view-first = View: my own eyes
hud-view-third = View: from behind
hud-hosting = This PC is hosting the room

status-no-sound = No sound: no speaker was found. Everything else works.
status-no-xr = No VR headset found, so you are on the screen.
status-xr-ready = VR headset connected.
status-server-error = The room could not open: { $reason }

bot-name = Practice guest { $n }

default-nickname = Guest

start-invite-label = Invite (starts with tsunagu://)
start-invite-hint = Paste the invite here (Ctrl+V)
start-joining = Connecting…
invite-error = That does not look like an invite. Please paste the whole invite that starts with tsunagu://.
join-error-wrong-code = The room code in the invite seems wrong. Please check it again.
join-error-room-full = The room is full. Please wait a little and try again.
join-error-version = This app is a different version from the room. Please use the newest Tsunagu.
join-error-unreachable = Could not reach the room. Please check the network and the invite.
join-error-certificate = The invite does not match this room. Please ask for a new invite.
join-error-shutdown = The room has closed. See you next time.
join-error-closed = This room has closed. Ask the person who invited you.
join-error-busy = The server was too busy to let you in. Please try again in a little while.
join-error-removed = You were asked to leave the room.
join-error-lost = The connection to the room was lost. Please try again.
join-error-intercepted = The network got in the way. For IT: please exempt { $reason } from TLS inspection.
join-error-proxy-unreachable = The proxy did not answer. Please check the proxy's host and port.
join-error-proxy-password = The proxy did not accept the user name or password. Please check them.
join-error-proxy-refused = The proxy would not connect to the room. Please ask IT to allow { $reason }.
netcheck-button = Check the connection
start-proxy-button = Proxy
start-proxy-label = Proxy:
start-proxy-hint = e.g. proxy.example.org:8080
start-proxy-invalid = That proxy does not look right. Example: proxy.example.org:8080
start-proxy-kept = This PC will use that proxy.
start-next-child = Next person
start-next-child-done = The last person's choices are cleared. Welcome!
start-next-child-pictures = The last person's choices are cleared. This PC has { $count } pictures saved from Tsunagu: the button below deletes them.
start-delete-pictures = Delete the pictures too ({ $count })
start-pictures-deleted = { $count } pictures deleted.
start-pictures-not-deleted = { $count } pictures could not be deleted. Please tell a grown-up.
netcheck-running = Checking the connection…
netcheck-title = Connection check: { $room }
netcheck-udp-ok = UDP (QUIC): works ({ $ms } ms). The best way for voice.
netcheck-udp-no = UDP (QUIC): does not get through.
netcheck-tcp-ok = TCP (WebSocket): works ({ $ms } ms).
netcheck-tcp-no = TCP (WebSocket): does not get through.
netcheck-proxy = Proxy: { $proxy } (this PC's setting).
netcheck-no-proxy = Proxy: none used.
netcheck-inspected = TLS: inspected by something on the way.
netcheck-not-inspected = TLS: not inspected.
netcheck-speed = Speed (rough): down { $down }, up { $up }.
netcheck-speed-none = Speed: could not be measured.
netcheck-speed-light = The line is a little slow: in the room, Settings, then "Connection: light", keeps voices from breaking up.
netcheck-speed-slow = The line is very slow: voices may break up. Please ask IT.
netcheck-all-good = This PC can join the meetup.
netcheck-tcp-only = This PC can join (over TCP). Voice may lag a little; opening UDP { $udp } makes it better.
netcheck-none = This PC cannot join right now.
netcheck-ask-it = For IT: please allow UDP { $udp } (if possible) and TCP { $tcp } to { $host }.
netcheck-ask-inspection = For IT: please exempt { $host }:{ $tcp } from TLS inspection. Tsunagu trusts only the room's own certificate, so an inspected connection cannot join.
netcheck-ask-it-udp = For IT: allowing UDP { $udp } to { $host } makes voice better.
netcheck-ask-proxy-password = Please check the proxy's user name and password.
netcheck-ask-proxy-address = The proxy does not answer. Please check its host and port.
hud-invite = Other PCs can join with this invite:
hud-copy = Copy the invite
hud-copied = Copied
hud-reconnecting = Reconnecting…
hud-busy = The server is busy. Trying again…
badge-facilitator = Staff
hud-slow-down = Please wait a moment, then try again

# Voice
voice-mic-on = Mic on
voice-mic-off = Mic off
voice-mode-open = Talk any time
voice-mode-ptt = Talk while holding
voice-talk = Hold to talk
voice-talking = Talking
voice-test = Test my mic
voice-test-recording = Say something…
voice-test-playing = Can you hear yourself?
voice-change-device = Change
voice-mic-device = Microphone: { $name }
voice-speaker-device = Speakers: { $name }
voice-device-none = none
status-no-mic = No microphone found. You can still hear everyone.
voice-peer-soft = (softer)
voice-peer-off = (muted)

# Gestures, the raised hand and stamps
gesture-wave = Wave
gesture-clap = Clap
gesture-nod = Nod
gesture-head-shake = Shake head
gesture-thumbs-up = Thumbs up
gesture-heart-hands = Heart
hand-raise = Raise hand
hand-lower = Lower hand
rest-on = Rest for a while
rest-off = Stop resting
phrase-yes = Yes
phrase-no = No
phrase-wait = Wait a moment
phrase-got-it = Got it
phrase-thanks = Thank you
phrase-laughing = I'm laughing
phrase-again = Say it again, please
phrase-cant-hear = I can't hear
phrase-back-soon = Back in a moment
phrase-hurts = It hurts a bit
staff-resting = resting
hands-raised = Hands up: { $names }
stamp-bar = Stamps
stamp-thanks = Thank you

# Chat
chat-send = Send
chat-words = Pick words, then send:
word-hello = Hello
word-thanks = Thank you
word-yes = Yes
word-bye = See you
word-fun = Fun!
word-cheer = Let's do our best
chat-hint = Click here to write (Enter)
chat-hint-typing = Write, then press Enter to send
chat-nothing-yet = Chat appears here
chat-empty = Write something first
chat-too-long = Too long: 100 characters at most
chat-not-allowed = There is a character that can't be used

# The avatar's look
look-headwear-label = Hair or hat
look-headwear-colour-label = Hair or hat colour
look-accessories-label = Things to wear
headwear-tuft = Tuft
headwear-short = Short hair
headwear-long = Long hair
headwear-bun = Bun
headwear-beanie = Beanie
headwear-cap = Cap
headwear-straw-hat = Straw hat
accessory-glasses = Glasses
accessory-ribbon = Ribbon
accessory-scarf = Scarf
hud-headwear-next = Change hair or hat
settings-unreadable = The saved settings could not be read, so the defaults are used.
bot-chat-1 = Hello! Nice weather today
bot-chat-2 = Have you chosen your Tanabata wish yet?
bot-chat-3 = Let's play again later

# Playing together: the ball, blocks, darts and Tanabata wishes
hud-not-allowed = That can't be done right now
hud-quieted = A staff member has asked you to be quiet for a little while
play-taken = Someone else is holding it
play-too-far = Go a little closer
play-not-holding = You can only throw what you hold
play-gone = That isn't there any more
play-hold-hint = Drag and let go to throw · Click to put it down
play-darts = Darts: { $scores }
play-dart-scored = { $name }: { $ring } { $points } points!
play-ring-bull = Bullseye!
play-ring-inner = So close!
play-ring-middle = Nice!
play-ring-outer = A hit!
wish-title = Tanabata bamboo
wish-none-yet = No wishes yet
wish-write = Write a wish
wish-pick-paper = Paper colour:
wish-hint = Write your wish (Enter to hang it)
wish-hang = Hang it
wish-no-space = No more room (3 wishes each)
wish-take-down = Take down
wish-save-picture = Save a picture of the bamboo
wish-saved = Picture saved: { $path }
wish-save-failed = The picture could not be saved
paper-red = red
paper-blue = blue
paper-yellow = yellow
paper-white = white
paper-purple = purple
bot-wish-1 = I wish everyone gets well
bot-wish-2 = I want to be an astronaut
bot-wish-3 = I hope we can all play together again

# Facilitation and safety
join-error-locked = The room is closed to newcomers right now. Please ask a staff member
hud-muted-by-staff = A staff member asked you to be quiet for a while: your microphone, chat and stamps are paused
staff-panel-title = Staff panel
staff-badge = staff
staff-mute = Ask to be quiet
staff-unmute = End the quiet
staff-make-staff = Make staff
staff-make-participant = Not staff
staff-remove = Ask to leave
staff-lock = Close the room (no newcomers)
staff-unlock = Open the room
staff-removed = Asked to leave: { $name }
staff-let-back-in = Let back in
join-meetup-ended = Today's meetup has ended. Thank you for coming! See you next time.
staff-bring-here = Bring here
staff-gather = Gather everyone here
staff-end = End the meetup
staff-are-you-sure = Sure? Press again
calm-on = Quiet (staff only)
calm-off = Bring everyone back
calm-show-hidden = Show the people I hid
staff-talking = talking
staff-hand-up = hand up
staff-muted = quiet
staff-minutes = { $minutes ->
    [0] just came
    [one] here 1 minute
   *[other] here { $minutes } minutes
}
join-error-turned-away = You cannot come in right now. Please ask a staff member
join-error-old-invite = This invite no longer works. Please ask a staff member for a new one
join-error-name-taken = Someone here already has this name (or one that looks the same). Please choose another
join-error-name-reserved = Words like "staff", "nurse" or "teacher" are kept for staff names. Please choose another name
hud-waiting = Please wait a moment: a staff member will let you in
hud-someone-waiting = Someone is waiting to come in (staff panel)
staff-waiting-room-on = Use a waiting room
staff-waiting-room-off = Stop the waiting room (let everyone in)
staff-waiting = Waiting: { $name }
staff-let-in = Let in
staff-turn-away = Not now
staff-new-invites = Make new invites
space-size = Space: { $cm } cm
space-off = Space: off
status-xr-ended = The headset stopped, so you carry on on the screen. "Use the headset" takes you back.
staff-recentre = Recentre headset
wrist-recentre = Straighten
wrist-turn = Turn { $degrees }°
wrist-walk-on = Walk: on
wrist-walk-off = Walk: off
wrist-bed = Bed { $degrees }°
wrist-eyes-higher = Eyes higher
wrist-eyes-lower = Eyes lower
wrist-screen = Use the screen
wrist-board-open = Open the board
wrist-board-close = Close the board
hud-use-headset = Use the headset

# Telling the staff, quietly (a name tag's button, then one kind)
tell-staff = Tell staff
tell-staff-words = Unkind words
tell-staff-too-close = Too close
tell-staff-other = Something else
tell-staff-done = The staff know now. That person is hidden on your screen
staff-concern = { $from } told you about { $about } ({ $kind }, { $minutes } min ago)
staff-concern-words = unkind words
staff-concern-too-close = too close
staff-concern-other = something else
staff-concerns-clear = Clear these
staff-hint-same-pc = same PC as before
staff-hint-no-installation = app without a number
staff-hint-same-network = same network as someone removed
staff-kept = Seat kept for reconnecting: { $name }
staff-release-place = Free the seat
staff-take-down-wishes = Take down wishes
staff-put-back = Tidy up
staff-notice-waiting-room-on = Someone was removed, so the waiting room is on. Turn it off when it is safe
staff-notice-invites-not-saved = The new invites could not be saved: they work until the server restarts, then the old ones come back
