# Tsunagu — English. Read by children and nurses: short, kind, clear.

app-title = Tsunagu
app-subtitle = Our ward room, together

start-nickname-label = Your name (nickname)
start-nickname-hint = Type it on the keyboard
start-nickname-invalid = Please use 1 to 24 letters for your name
start-color-label = Your colour
start-language-label = Language
start-host = Open a room on this PC
start-join = Join with an invite
start-join-unavailable = Joining with an invite is coming soon. For now, please choose "Open a room on this PC".
start-starting = Getting the room ready…

lang-ja = 日本語
lang-en = English

hud-people = { $count ->
    [one] 1 person is here
   *[other] { $count } people are here
}
hud-you = { $name } (you)
hud-help = Walk: WASD / arrows · Go there: click the floor · Turn: Q / E · Look around: drag with right button · View: V
hud-view-first = Seeing through your own eyes
hud-view-third = Seeing from behind
hud-hosting = This PC is hosting the room

status-no-sound = No sound: no speaker was found. Everything else works.
status-no-xr = No VR headset found, so you are on the screen.
status-xr-ready = VR headset connected.
status-server-error = The room could not open: { $reason }
status-disconnected = The connection to the room was lost.

bot-name = Practice guest { $n }

default-nickname = Guest
